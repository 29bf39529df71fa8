using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Data;

/// <summary>Standardisation of features: (x − mean) / standard deviation, with the statistics of the training data.</summary>
public sealed class FeatureScaler
{
    private readonly double[] mean;
    private readonly double[] scale;

    private FeatureScaler(double[] mean, double[] scale)
    {
        this.mean = mean;
        this.scale = scale;
    }

    /// <summary>The per-column means of the training data.</summary>
    public IReadOnlyList<double> Mean => Array.AsReadOnly(mean);

    /// <summary>The per-column standard deviations of the training data (1 for a constant column): the divisors.</summary>
    public IReadOnlyList<double> Scale => Array.AsReadOnly(scale);

    /// <summary>Number of columns d.</summary>
    public int Dimension => mean.Length;

    /// <summary>A scaler from stored statistics (a model file), checked: finite means, positive finite scales.</summary>
    internal static FeatureScaler FromStatistics(double[] mean, double[] scale)
    {
        if (mean.Length != scale.Length || mean.Length == 0)
        {
            throw new ArgumentException($"{mean.Length} means but {scale.Length} scales.", nameof(scale));
        }

        if (Array.Exists(mean, v => !double.IsFinite(v)) || Array.Exists(scale, v => !double.IsFinite(v) || v <= 0))
        {
            throw new ArgumentException("The means must be finite and the scales positive and finite.", nameof(scale));
        }

        return new FeatureScaler(mean, scale);
    }

    /// <summary>Learns the per-column mean and standard deviation (constant columns are left unscaled).</summary>
    /// <param name="features">Training features, n × d (n ≥ 1).</param>
    /// <returns>The scaler.</returns>
    public static FeatureScaler Fit(Matrix<double> features)
    {
        Validation.NonEmptyFinite(features, nameof(features));
        int d = features.ColumnCount;
        var mean = new double[d];
        var scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            var column = features.Column(j);
            mean[j] = column.Average();
            double sd = Math.Sqrt(column.Select(v => (v - mean[j]) * (v - mean[j])).Average());
            scale[j] = sd > 0 ? sd : 1;
        }

        return new FeatureScaler(mean, scale);
    }

    /// <summary>Standardises features with the learned statistics.</summary>
    /// <param name="features">n × d features.</param>
    /// <returns>A new standardised matrix.</returns>
    public Matrix<double> Transform(Matrix<double> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.ColumnCount != mean.Length)
        {
            throw new ArgumentException($"The scaler was fitted on {mean.Length} columns but got {features.ColumnCount}.", nameof(features));
        }

        return Matrix<double>.Build.Dense(features.RowCount, features.ColumnCount, (i, j) => (features[i, j] - mean[j]) / scale[j]);
    }
}
