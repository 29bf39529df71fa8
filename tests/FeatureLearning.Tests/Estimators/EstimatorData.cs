using FeatureLearning.Compute;
using FeatureLearning.Data;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Estimators;

/// <summary>Small data for the facade tests: a stratified part of UCI digits, and a planted regression target.</summary>
internal static class EstimatorData
{
    public static readonly ManagedBackend Backend = new();

    private static readonly Lazy<LabeledDataSet> DigitsData = new(() => LabeledDataSet.LoadCsv(DigitsPath));

    public static string DigitsPath => Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz");

    public static LabeledDataSet Digits => DigitsData.Value;

    /// <summary>About 300 training and 150 test digits (stratified), to keep the fits short.</summary>
    public static (LabeledDataSet Train, LabeledDataSet Test) SmallDigits()
    {
        var (part, _) = Digits.StratifiedSplit(0.25, seed: 5);
        return part.StratifiedSplit(0.67, seed: 6);
    }

    /// <summary>x ~ N(0, I_8); y = x₀x₁ + x₀ (one output).</summary>
    public static (Matrix<double> X, double[] Y) Planted(int n, int seed)
    {
        var x = Matrix<double>.Build.Random(n, 8, new Normal(0, 1, new System.Random(seed)));
        return (x, Enumerable.Range(0, n).Select(i => (x[i, 0] * x[i, 1]) + x[i, 0]).ToArray());
    }
}
