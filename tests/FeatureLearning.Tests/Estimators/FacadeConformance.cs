using FeatureLearning.Compute;
using FeatureLearning.Estimators;
using FeatureLearning.Kernels;
using FeatureLearning.Tests.Conformance;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Estimators;

/// <summary>The estimator conformance suite on the facade's regressor (RFM, standardised features, OnRound as the progress hook).</summary>
public sealed class FeatureMachineRegressorConformance : EstimatorConformanceTests<MatrixProblem>
{
    protected override EstimatorCase<MatrixProblem> Case { get; } = new FeatureMachineRegressorCase();
}

/// <summary>
/// The facade's regressor fitted on the first target column. Double only (the facade computes in double), and no
/// shift/scale check: standardisation already removes shifts and scales of the inputs.
/// </summary>
public sealed class FeatureMachineRegressorCase : EstimatorCase<MatrixProblem>
{
    private static FeatureMachineRegressor Estimator(IComputeBackend backend, Action? onRound = null, double factor = 1) =>
        new(new FeatureMachineOptions { Kernel = new LaplaceKernel(2.0 * factor), Rounds = 3, Backend = backend, OnRound = onRound is null ? null : _ => onRound() });

    private static double[] Targets(Matrix<double> y) => y.Column(0).ToArray();

    public override MatrixProblem Data(int seed) => Problems.Smooth(seed);

    public override MatrixProblem Copy(MatrixProblem data) => Problems.Copy(data);

    public override bool SameData(MatrixProblem a, MatrixProblem b) => Problems.Same(a, b);

    public override object Fit(MatrixProblem data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        Estimator(backend, onProgress, bandwidthFactor).Fit(data.X, Targets(data.Y), cancellationToken: cancellationToken);

    public override double[] Predict(object model, MatrixProblem data) => ((FittedRegressor)model).Predict(data.XTest);

    public override double[] LearnedState(object model)
    {
        var m = (FittedRegressor)model;
        return [.. Problems.Flat(m.KernelMachine.Coefficients), .. Problems.Flat(m.Rfm!.FeatureMatrix), .. Problems.Learned(m.Rfm.History), .. m.Scaler!.Mean, .. m.Scaler.Scale];
    }

    public override byte[]? Save(object model) => Problems.Bytes(((FittedRegressor)model).Save);

    public override object Load(byte[] bytes) => FittedRegressor.Load(new MemoryStream(bytes));

    public override IEnumerable<BadInput> BadInputs(MatrixProblem valid, IComputeBackend backend)
    {
        var estimator = Estimator(backend);
        var y = Targets(valid.Y);
        var model = estimator.Fit(valid.X, y);
        return
        [
            new("x with NaN", () => estimator.Fit(Problems.WithEntry(valid.X, 1, 1, double.NaN), y), "x"),
            new("y with −∞", () => estimator.Fit(valid.X, y.Select((v, i) => i == 3 ? double.NegativeInfinity : v).ToArray()), "y"),
            new("empty x", () => estimator.Fit(Matrix<double>.Build.Dense(0, valid.X.ColumnCount), Array.Empty<double>()), "x"),
            new("y with one value too few", () => estimator.Fit(valid.X, y[..^1]), "y"),
            new("null x", () => estimator.Fit((Matrix<double>?)null, y), "x"),
            new("ragged x", () => estimator.Fit(new[] { new double[] { 1, 2, 3 }, [1, 2] }, [0.0, 1]), "x"),
            new("validation inputs with a column too few", () => estimator.Fit(valid.X, y, valid.XTest.SubMatrix(0, 10, 0, 2), new double[10]), "xValidation"),
            new("validation targets without inputs", () => estimator.Fit(valid.X, y, yValidation: new double[10]), "xValidation"),
            new("prediction inputs with a column too many", () => model.Predict(Matrix<double>.Build.Dense(2, valid.X.ColumnCount + 1)), "x"),
            new("prediction inputs with NaN", () => model.Predict(Problems.WithEntry(valid.XTest, 0, 0, double.NaN)), "x"),
        ];
    }
}
