using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Solvers;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Conformance;

// The estimator conformance suite for kernel ridge and RFM on the Nyström solver. The learned state is the centres,
// coefficients and metric; the CG report is a diagnostic of the fit that model files do not keep (docs/scale.md).

public sealed class NystromKernelRidgeConformance : EstimatorConformanceTests<MatrixProblem>
{
    protected override EstimatorCase<MatrixProblem> Case { get; } = new NystromKernelRidgeCase();
}

public sealed class NystromRfmConformance : EstimatorConformanceTests<MatrixProblem>
{
    protected override EstimatorCase<MatrixProblem> Case { get; } = new NystromRfmCase();
}

/// <summary>Kernel ridge on 20 Nyström centres, progress from the CG iterations.</summary>
public sealed class NystromKernelRidgeCase : MatrixCase<KernelRidgeModel<double>>
{
    private static KernelRidge Estimator(IComputeBackend backend, double factor = 1) =>
        new(new KernelRidgeOptions { Kernel = new LaplaceKernel(2.0 * factor), Ridge = 1e-3, Backend = backend, Solver = KernelSolver.Nystrom(20, seed: 3) });

    public override object Fit(MatrixProblem data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        Estimator(backend, bandwidthFactor).Fit(data.X, data.Y, new SyncProgress<SolverProgress>(onProgress), cancellationToken);

    public override double[] Predict(object model, MatrixProblem data) => ((KernelRidgeModel<double>)model).Predict(data.XTest).ToRowMajorArray();

    public override double[] LearnedState(object model)
    {
        var m = (KernelRidgeModel<double>)model;
        return [.. Problems.Flat(m.Coefficients), .. Problems.Flat(m.TrainingInputs), m.Jitter];
    }

    public override object Load(byte[] bytes) => KernelRidgeModel<double>.Load(new MemoryStream(bytes));

    protected override KernelRidgeModel<double> FitDouble(IComputeBackend backend, Matrix<double> x, Matrix<double> y) => Estimator(backend).Fit(x, y);

    protected override object FitSingle(IComputeBackend backend, Matrix<float> x, Matrix<float> y) => Estimator(backend).Fit(x, y);

    protected override Matrix<float> PredictSingle(object model, Matrix<float> x) => ((KernelRidgeModel<float>)model).Predict(x);

    protected override void Save(KernelRidgeModel<double> model, Stream stream) => model.Save(stream);
}

/// <summary>RFM on 20 Nyström centres with K_nm streamed in blocks of 16 rows.</summary>
public sealed class NystromRfmCase : MatrixCase<RfmModel<double>>
{
    private static RecursiveFeatureMachine Estimator(IComputeBackend backend, double factor = 1) => new(new RfmOptions
    {
        Kernel = new LaplaceKernel(2.0 * factor),
        Ridge = 1e-3,
        Rounds = 3,
        AgopSampleSize = 30,
        Seed = 11,
        Backend = backend,
        Solver = KernelSolver.Nystrom(20, seed: 3) with { MemoryBudgetBytes = 0, BlockRows = 16 },
    });

    public override object Fit(MatrixProblem data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        Estimator(backend, bandwidthFactor).Fit(data.X, data.Y, null, new SyncProgress<RfmIteration>(onProgress), cancellationToken);

    public override double[] Predict(object model, MatrixProblem data) => ((RfmModel<double>)model).Predict(data.XTest).ToRowMajorArray();

    public override double[] LearnedState(object model)
    {
        var m = (RfmModel<double>)model;
        return [.. Problems.Flat(m.Coefficients), .. Problems.Flat(m.Predictor.TrainingInputs), .. Problems.Flat(m.FeatureMatrix), .. Problems.Learned(m.History), m.SelectedIteration];
    }

    public override object Load(byte[] bytes) => RfmModel<double>.Load(new MemoryStream(bytes));

    protected override RfmModel<double> FitDouble(IComputeBackend backend, Matrix<double> x, Matrix<double> y) => Estimator(backend).Fit(x, y);

    protected override object FitSingle(IComputeBackend backend, Matrix<float> x, Matrix<float> y) => Estimator(backend).Fit(x, y);

    protected override Matrix<float> PredictSingle(object model, Matrix<float> x) => ((RfmModel<float>)model).Predict(x);

    protected override void Save(RfmModel<double> model, Stream stream) => model.Save(stream);
}
