using System.Globalization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Data;

/// <summary>A regression data set: features (n × d) and one real target per row.</summary>
public sealed class RegressionDataSet
{
    private readonly double[] targets;

    /// <summary>Creates a data set.</summary>
    /// <param name="features">n × d features.</param>
    /// <param name="targets">n targets.</param>
    /// <exception cref="ArgumentException">A row-count mismatch.</exception>
    public RegressionDataSet(Matrix<double> features, IReadOnlyList<double> targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.RowCount != targets.Count)
        {
            throw new ArgumentException($"{features.RowCount} feature rows but {targets.Count} targets.", nameof(targets));
        }

        Features = features;
        this.targets = targets.ToArray();
    }

    /// <summary>n × d features.</summary>
    public Matrix<double> Features { get; }

    /// <summary>The targets.</summary>
    public IReadOnlyList<double> Targets => Array.AsReadOnly(targets);

    /// <summary>Number of examples.</summary>
    public int Count => targets.Length;

    /// <summary>Reads a delimited file whose target column (the last by default) holds numbers.</summary>
    /// <param name="path">File path (gzip-compressed when it ends in <c>.gz</c>).</param>
    /// <param name="options">Separator, header and target column; null for comma-separated, no header, last column.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="ArgumentException">Inconsistent options (named).</exception>
    /// <exception cref="InvalidDataException">A line has a different number of fields, a value is not a number, or the target column does not exist.</exception>
    public static RegressionDataSet LoadCsv(string path, CsvOptions? options = null)
    {
        var table = CsvTable.Read(path, options ?? new CsvOptions());
        var y = new double[table.Labels.Count];
        for (int i = 0; i < y.Length; i++)
        {
            if (!double.TryParse(table.Labels[i], NumberStyles.Float, CultureInfo.InvariantCulture, out y[i]))
            {
                throw new InvalidDataException($"{path}:{table.LineNumbers[i]}: the target '{table.Labels[i]}' is not a number.");
            }
        }

        return new RegressionDataSet(Matrix<double>.Build.DenseOfRowArrays(table.Rows), y);
    }

    /// <summary>Splits into a training and a test part by a seeded random permutation.</summary>
    /// <param name="trainFraction">Fraction of examples in the training part, in (0, 1).</param>
    /// <param name="seed">Seed of the permutation.</param>
    /// <returns>The two parts.</returns>
    public (RegressionDataSet Train, RegressionDataSet Test) Split(double trainFraction, int seed)
    {
        var (train, test) = RandomSplit.Indices(Count, trainFraction, seed);
        return (Subset(train), Subset(test));
    }

    /// <summary>The examples at the given indices.</summary>
    /// <param name="indices">Row indices.</param>
    /// <returns>A new data set.</returns>
    public RegressionDataSet Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var features = Matrix<double>.Build.Dense(indices.Count, Features.ColumnCount, (i, j) => Features[indices[i], j]);
        return new RegressionDataSet(features, indices.Select(i => targets[i]).ToArray());
    }
}
