using System.Globalization;
using System.IO.Compression;
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
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.RowCount != labels.Count)
        {
            throw new ArgumentException($"{features.RowCount} feature rows but {labels.Count} labels.", nameof(labels));
        }

        Features = features;
        Labels = labels.ToArray();
        Classes = classes;
    }

    /// <summary>n × d features.</summary>
    public Matrix<double> Features { get; }

    /// <summary>Class labels.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

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
        ArgumentException.ThrowIfNullOrEmpty(path);
        using Stream file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream);
        var rows = new List<double[]>();
        var labels = new List<int>();
        string? line;
        int lineNumber = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if ((skipHeader && lineNumber == 1) || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(',');
            if (rows.Count > 0 && fields.Length - 1 != rows[0].Length)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: {fields.Length} fields where {rows[0].Length + 1} were expected.");
            }

            var row = new double[fields.Length - 1];
            for (int j = 0; j < row.Length; j++)
            {
                if (!double.TryParse(fields[j], NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]))
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: field {j + 1} ('{fields[j]}') is not a number.");
                }
            }

            if (!double.TryParse(fields[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double label) || label < 0 || label != Math.Floor(label))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: the label '{fields[^1]}' is not a non-negative integer.");
            }

            rows.Add(row);
            labels.Add((int)label);
        }

        if (rows.Count == 0)
        {
            throw new InvalidDataException($"{path} holds no data rows.");
        }

        return new LabeledDataSet(Matrix<double>.Build.DenseOfRowArrays(rows), labels, labels.Max() + 1);
    }

    /// <summary>Splits into a training and a test part by a seeded random permutation.</summary>
    /// <param name="trainFraction">Fraction of examples in the training part, in (0, 1).</param>
    /// <param name="seed">Seed of the permutation.</param>
    /// <returns>The two parts.</returns>
    public (LabeledDataSet Train, LabeledDataSet Test) Split(double trainFraction, int seed)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "The training fraction must lie strictly between 0 and 1.");
        }

        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        int nTrain = Math.Clamp((int)Math.Round(trainFraction * Count), 1, Count - 1);
        return (Subset(order[..nTrain]), Subset(order[nTrain..]));
    }

    /// <summary>Splits each class separately by a seeded permutation, so both parts keep the class proportions.</summary>
    /// <param name="trainFraction">Fraction of each class in the training part, in (0, 1).</param>
    /// <param name="seed">Seed of the permutations.</param>
    /// <returns>The two parts.</returns>
    public (LabeledDataSet Train, LabeledDataSet Test) StratifiedSplit(double trainFraction, int seed)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "The training fraction must lie strictly between 0 and 1.");
        }

        var rng = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        foreach (var group in Enumerable.Range(0, Count).GroupBy(i => Labels[i]).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            rng.Shuffle(members);
            int nTrain = Math.Clamp((int)Math.Round(trainFraction * members.Length), members.Length > 1 ? 1 : 0, Math.Max(0, members.Length - 1));
            train.AddRange(members[..nTrain]);
            test.AddRange(members[nTrain..]);
        }

        train.Sort();
        test.Sort();
        return (Subset(train), Subset(test));
    }

    /// <summary>The examples at the given indices.</summary>
    /// <param name="indices">Row indices.</param>
    /// <returns>A new data set.</returns>
    public LabeledDataSet Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var features = Matrix<double>.Build.Dense(indices.Count, Features.ColumnCount, (i, j) => Features[indices[i], j]);
        return new LabeledDataSet(features, indices.Select(i => Labels[i]).ToList(), Classes);
    }
}
