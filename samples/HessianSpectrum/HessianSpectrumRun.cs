using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;

namespace FeatureLearning.Samples.HessianSpectrum;

/// <summary>The outcome of a run: the data and network sizes, the loss-Hessian densities at init and at the end, and the monitored training.</summary>
internal sealed record HessianSpectrumOutcome(int SampleCount, int ParameterCount, SpectralDensityResult InitialDensity, SpectralDensityResult? FinalDensity, MonitoredTrainingResult<double> Run);

/// <summary>
/// The core of samples/HessianSpectrum: <paramref name="samples"/> stratified UCI digits (standardised features, one-hot
/// targets, MSE), a network of <paramref name="depth"/> tanh layers of <paramref name="width"/> units (NTK
/// parameterisation) trained by full-batch GD with the <see cref="TrainingMonitor"/>, and SLQ densities of the loss Hessian
/// at initialisation and at the end (none at the end when GD diverged).
/// </summary>
internal static class HessianSpectrumRun
{
    public static HessianSpectrumOutcome Run(int samples, int width, int depth, double eta, int steps, int interval, int kernelSamples, int seed, IComputeBackend? backend = null, Action<TrainingRecord>? onRecord = null, CancellationToken cancellationToken = default)
    {
        var digits = LabeledDataSet.LoadCsv(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"));
        if (samples < 10 || samples >= digits.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(samples), samples, $"The sample count must be between 10 and {digits.Count - 1}.");
        }

        var (train, _) = digits.StratifiedSplit(samples / (double)digits.Count, seed);
        var x = FeatureScaler.Fit(train.Features).Transform(train.Features);
        var y = OneHot.Encode(train.Labels, digits.Classes);
        var architecture = new NetworkArchitecture
        {
            InputDimension = x.ColumnCount, HiddenWidths = Enumerable.Repeat(width, depth).ToArray(), OutputDimension = digits.Classes,
            Activation = Activation.Tanh, Parameterization = Parameterization.Ntk,
        };
        using var network = FullyConnectedNetwork<double>.Create(architecture, seed, backend: backend);
        var densityOptions = new SpectralDensityOptions { Runs = 4, Steps = 60, Seed = seed };
        var initialDensity = SpectralDensity.Estimate(SymmetricOperator.LossHessian(network, x, y), densityOptions, null, cancellationToken);
        var monitorOptions = new TrainingMonitorOptions { Interval = interval, KernelSamples = Math.Min(kernelSamples, train.Count), Lanczos = new LanczosOptions { Seed = seed, Tolerance = 1e-8 } };
        var run = TrainingMonitor.Train(network, x, y, new NetworkTrainingOptions { LearningRate = eta, Epochs = steps }, monitorOptions, onRecord is null ? null : new Reporter(onRecord), cancellationToken);
        var finalDensity = run.Training.Diverged ? null : SpectralDensity.Estimate(SymmetricOperator.LossHessian(run.Training.Network, x, y), densityOptions, null, cancellationToken);
        return new HessianSpectrumOutcome(train.Count, network.ParameterCount, initialDensity, finalDensity, run);
    }

    /// <summary>Calls an action synchronously on every record.</summary>
    private sealed class Reporter(Action<TrainingRecord> action) : IProgress<TrainingRecord>
    {
        public void Report(TrainingRecord value) => action(value);
    }
}
