using System.Globalization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Data;

/// <summary>A classification data set: features (n × d) and integer class labels.</summary>
public sealed class LabeledDataSet
{
    /// <summary>Creates a data set.</summary>
    /// <param name="features">n × d features.</param>
    /// <param name="labels">n labels in 0 … classes − 1.</param>
    /// <param name="classes">Number of classes.</param>
    public LabeledDataSet(Matrix<double> features, IReadOnlyList<int> labels, int classes)
        : this(features, labels, classes, null)
    {
    }

    /// <summary>Creates a data set whose classes have names.</summary>
    /// <param name="features">n × d features.</param>
    /// <param name="labels">n labels in 0 … classes − 1.</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="classNames">The name of each class (null: "0", "1", …).</param>
    /// <exception cref="ArgumentException">A row-count mismatch, or another number of names than classes.</exception>
    public LabeledDataSet(Matrix<double> features, IReadOnlyList<int> labels, int classes, IReadOnlyList<string>? classNames)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.RowCount != labels.Count)
        {
            throw new ArgumentException($"{features.RowCount} feature rows but {labels.Count} labels.", nameof(labels));
        }

        if (classNames is not null && classNames.Count != classes)
        {
            throw new ArgumentException($"{classNames.Count} class names for {classes} classes.", nameof(classNames));
        }

        Features = features;
        Labels = labels.ToArray();
        Classes = classes;
        ClassNames = classNames?.ToArray() ?? Enumerable.Range(0, classes).Select(k => k.ToString(CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>n × d features.</summary>
    public Matrix<double> Features { get; }

    /// <summary>Class labels.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    /// <summary>The name of each class: the label text of a file with text labels, otherwise "0", "1", ….</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The label of each example as its class name (for the string-label facade).</summary>
    public IReadOnlyList<string> LabelNames => Labels.Select(l => ClassNames[l]).ToArray();

    /// <summary>Number of examples.</summary>
    public int Count => Labels.Count;

    /// <summary>
    /// Reads a comma-separated file (optionally gzip-compressed, by the <c>.gz</c> suffix) whose last column is an
    /// integer class label, as the files in the repository's <c>data/</c> folder.
    /// </summary>
    /// <param name="path">File path.</param>
    /// <param name="skipHeader">Whether the first line is a header to skip.</param>
    /// <returns>The data set; the number of classes is max(label) + 1.</returns>
    /// <exception cref="InvalidDataException">A line has a different number of fields or a non-numeric value.</exception>
    public static LabeledDataSet LoadCsv(string path, bool skipHeader = false)
    {
        var table = CsvTable.Read(path, new CsvOptions { HasHeader = skipHeader });
        var labels = new int[table.Labels.Count];
        for (int i = 0; i < labels.Length; i++)
        {
            if (!CsvTable.TryParseClass(table.Labels[i], out labels[i]))
            {
                throw new InvalidDataException($"{path}:{table.LineNumbers[i]}: the label '{table.Labels[i]}' is not a non-negative integer.");
            }
        }

        return new LabeledDataSet(Matrix<double>.Build.DenseOfRowArrays(table.Rows), labels, labels.Max() + 1);
    }

    /// <summary>
    /// Reads a delimited file with the given separator, header and label column (by index or name). Labels that are
    /// all non-negative integers are the classes themselves (classes = max + 1, named "0", "1", …); otherwise the
    /// distinct label texts, in ordinal order, are the classes 0, 1, … and <see cref="ClassNames"/> holds them.
    /// </summary>
    /// <param name="path">File path (gzip-compressed when it ends in <c>.gz</c>).</param>
    /// <param name="options">Separator, header and label column.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="ArgumentException">Inconsistent options (named).</exception>
    /// <exception cref="InvalidDataException">A line has a different number of fields, a feature is not a number, or the label column does not exist.</exception>
    public static LabeledDataSet LoadCsv(string path, CsvOptions options)
    {
        var table = CsvTable.Read(path, options);
        var features = Matrix<double>.Build.DenseOfRowArrays(table.Rows);
        var numbers = new int[table.Labels.Count];
        if (table.Labels.Select((text, i) => CsvTable.TryParseClass(text, out numbers[i])).All(ok => ok))
        {
            return new LabeledDataSet(features, numbers, numbers.Max() + 1);
        }

        var names = table.Labels.Distinct().Order(StringComparer.Ordinal).ToArray();
        var index = names.Select((name, k) => (name, k)).ToDictionary(p => p.name, p => p.k, StringComparer.Ordinal);
        return new LabeledDataSet(features, table.Labels.Select(l => index[l]).ToArray(), names.Length, names);
    }

    /// <summary>Splits into a training and a test part by a seeded random permutation.</summary>
    /// <param name="trainFraction">Fraction of examples in the training part, in (0, 1).</param>
    /// <param name="seed">Seed of the permutation.</param>
    /// <returns>The two parts.</returns>
    public (LabeledDataSet Train, LabeledDataSet Test) Split(double trainFraction, int seed)
    {
        var (train, test) = RandomSplit.Indices(Count, trainFraction, seed);
        return (Subset(train), Subset(test));
    }

    /// <summary>Splits each class separately by a seeded permutation, so both parts keep the class proportions.</summary>
    /// <param name="trainFraction">Fraction of each class in the training part, in (0, 1).</param>
    /// <param name="seed">Seed of the permutations.</param>
    /// <returns>The two parts.</returns>
    public (LabeledDataSet Train, LabeledDataSet Test) StratifiedSplit(double trainFraction, int seed)
    {
        var (train, test) = RandomSplit.StratifiedIndices(Labels, trainFraction, seed);
        return (Subset(train), Subset(test));
    }

    /// <summary>The examples at the given indices.</summary>
    /// <param name="indices">Row indices.</param>
    /// <returns>A new data set.</returns>
    public LabeledDataSet Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var features = Matrix<double>.Build.Dense(indices.Count, Features.ColumnCount, (i, j) => Features[indices[i], j]);
        return new LabeledDataSet(features, indices.Select(i => Labels[i]).ToList(), Classes, ClassNames);
    }
}
