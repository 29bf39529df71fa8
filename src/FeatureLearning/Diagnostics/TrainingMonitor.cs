using System.Numerics;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// Records training diagnostics of a network against its initial state (<see cref="TrainingRecord"/>): the loss, the
/// sharpness next to 2/η, the tangent kernel's top eigenvalue (in the loss's normalisation Θ/m), condition number and
/// relative movement, and the effective ranks of W_l − W_l(0); then detects a catapult over the records. Use it inside any
/// training loop through <see cref="Record"/>, or let <see cref="TrainingMonitor.Train{T}"/> plug it into
/// <see cref="FullyConnectedNetwork{T}"/>'s gradient descent.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class TrainingMonitor<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly NetworkArchitecture architecture;
    private readonly MathNet.Numerics.LinearAlgebra.Vector<T> initialParameters;
    private readonly Matrix<T> inputs, targets, kernelInputs;
    private readonly Matrix<double>? initialKernel;
    private readonly NetworkLoss loss;
    private readonly double learningRate;
    private readonly TrainingMonitorOptions options;
    private readonly List<TrainingRecord> records = [];

    /// <summary>Creates a monitor; the initial parameters (and, with tangent-kernel records, the initial kernel Θ_0) are copied now.</summary>
    /// <param name="initial">The network at initialisation (not kept).</param>
    /// <param name="inputs">X, n × d, the training inputs.</param>
    /// <param name="targets">Y, n × c, the training targets.</param>
    /// <param name="learningRate">η (positive, finite), for 2/η.</param>
    /// <param name="loss">The training loss. Default MSE.</param>
    /// <param name="options">What to record; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">Invalid data, learning rate or options.</exception>
    public TrainingMonitor(FullyConnectedNetwork<T> initial, Matrix<T> inputs, Matrix<T> targets, double learningRate, NetworkLoss loss = NetworkLoss.MeanSquaredError, TrainingMonitorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        Validation.NonEmptyFinite(inputs, nameof(inputs));
        Validation.NonEmptyFinite(targets, nameof(targets));
        Validation.SameRows(inputs, targets, nameof(targets));
        Validation.PositiveFinite(learningRate, nameof(learningRate), "learning rate");
        Validation.DefinedEnum(loss, nameof(loss));
        this.options = options ?? new TrainingMonitorOptions();
        this.options.Validate();
        if (this.options.KernelSamples > inputs.RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(options), this.options.KernelSamples, $"TrainingMonitorOptions.KernelSamples must be at most n = {inputs.RowCount}.");
        }

        architecture = initial.Architecture;
        initialParameters = initial.GetParameters();
        this.inputs = inputs;
        this.targets = targets;
        this.learningRate = learningRate;
        this.loss = loss;
        int m = this.options.KernelSamples ?? inputs.RowCount;
        kernelInputs = m == inputs.RowCount ? inputs : inputs.SubMatrix(0, m, 0, inputs.ColumnCount);
        initialKernel = this.options.ComputeTangentKernel ? Kernel(initial, default) : null;
    }

    /// <summary>The records so far, by increasing step.</summary>
    public IReadOnlyList<TrainingRecord> Records => records;

    /// <summary>Measures <paramref name="network"/> after <paramref name="step"/> updates and appends the record.</summary>
    /// <param name="network">The network being trained (same architecture as the initial one; not changed).</param>
    /// <param name="step">The number of updates taken (above that of the last record).</param>
    /// <param name="cancellationToken">Checked by the kernel and Lanczos.</param>
    /// <returns>The record.</returns>
    /// <exception cref="ArgumentException">Another architecture, a step not above the last one.</exception>
    /// <exception cref="NonFiniteOperatorException">The network's parameters are not finite (a diverged run).</exception>
    public TrainingRecord Record(FullyConnectedNetwork<T> network, int step, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!NetworkArchitecture.SameShape(network.Architecture, architecture))
        {
            throw new ArgumentException("The network's architecture is not the initial network's.", nameof(network));
        }

        if (step < 0 || (records.Count > 0 && step <= records[^1].Step))
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be non-negative and above the last record's.");
        }

        var record = new TrainingRecord { Step = step, Loss = network.Loss(inputs, targets, loss), TwoOverEta = 2 / learningRate };
        if (options.ComputeSharpness)
        {
            var hessian = SymmetricOperator.LossHessian(network, inputs, targets, loss, options.HessianBatchSize);
            var lanczos = (options.Lanczos ?? new LanczosOptions()) with { Count = 1, Which = SpectrumEnd.Largest, ComputeVectors = false };
            var top = Lanczos.Eigenpairs(hessian, lanczos, null, cancellationToken);
            record = record with { Sharpness = top.Eigenvalues[0], SharpnessApplications = top.Iterations, SharpnessConverged = top.Converged };
        }

        if (initialKernel is not null)
        {
            var theta = Kernel(network, cancellationToken);
            var spectrum = TangentKernelDiagnostics.FromKernel(theta, kernelInputs.RowCount, architecture.OutputDimension, 1, null, network.Backend);
            record = record with
            {
                NtkTop = spectrum.NormalizedLargest,
                NtkCondition = spectrum.ConditionNumber,
                KernelMovement = TangentKernelDiagnostics.RelativeMovement(initialKernel, theta),
            };
        }

        if (options.ComputeEffectiveRanks)
        {
            var delta = network.GetParameters() - initialParameters;
            var layers = LayerLayout.Of(architecture);
            var entropy = new double[layers.Length];
            var stable = new double[layers.Length];
            for (int l = 0; l < layers.Length; l++)
            {
                var layer = layers[l];
                var w = Matrix<T>.Build.Dense(layer.FanOut, layer.FanIn, (i, j) => delta[layer.WeightOffset + (i * layer.FanIn) + j]);
                entropy[l] = EffectiveRank.Entropy(w);
                stable[l] = EffectiveRank.Stable(w);
            }

            record = record with { EffectiveRanks = entropy, StableRanks = stable };
        }

        records.Add(record);
        return record;
    }

    /// <summary>The catapult detection over the records' (step, loss, <see cref="TrainingRecord.NtkTop"/>).</summary>
    /// <returns>The detection.</returns>
    /// <exception cref="InvalidOperationException">No records, or records without the tangent kernel.</exception>
    public CatapultDetection DetectCatapult()
    {
        if (records.Count == 0 || initialKernel is null)
        {
            throw new InvalidOperationException("The catapult detection needs at least one record with the tangent kernel (TrainingMonitorOptions.ComputeTangentKernel).");
        }

        return CatapultDetector.Detect(records.Select(r => new CatapultObservation(r.Step, r.Loss, r.NtkTop!.Value)).ToArray(), options.Catapult);
    }

    private Matrix<double> Kernel(FullyConnectedNetwork<T> network, CancellationToken cancellationToken) =>
        TangentKernelDiagnostics.ToDouble(EmpiricalNtk.Compute(network, kernelInputs, null, EmpiricalNtkOptions.Default, null, cancellationToken));
}

/// <summary>Gradient descent of a <see cref="FullyConnectedNetwork{T}"/> with a <see cref="TrainingMonitor{T}"/> plugged in.</summary>
public static class TrainingMonitor
{
    /// <summary>
    /// Trains a copy of <paramref name="network"/> as <see cref="FullyConnectedNetwork{T}.Train"/> does and records the
    /// diagnostics of <paramref name="monitorOptions"/> at steps 0, k, 2k, … (the parameters before that step's update, i.e.
    /// after that many updates) and after the last step. Records stop at the first step whose batch loss is not finite.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The initial network (not changed).</param>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c.</param>
    /// <param name="trainingOptions">The optimiser; <see langword="null"/> for the defaults.</param>
    /// <param name="monitorOptions">What to record; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives every record as it is made.</param>
    /// <param name="cancellationToken">Checked before every step and by the diagnostics.</param>
    /// <returns>The training result, the records and the catapult detection.</returns>
    /// <exception cref="ArgumentException">Invalid data or options.</exception>
    public static MonitoredTrainingResult<T> Train<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs, Matrix<T> targets, NetworkTrainingOptions? trainingOptions = null, TrainingMonitorOptions? monitorOptions = null, IProgress<TrainingRecord>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        trainingOptions ??= new NetworkTrainingOptions();
        trainingOptions.Validate();
        monitorOptions ??= new TrainingMonitorOptions();
        var monitor = new TrainingMonitor<T>(network, inputs, targets, trainingOptions.LearningRate, trainingOptions.Loss, monitorOptions);
        bool stopped = false;
        var result = network.TrainWithHook(inputs, targets, trainingOptions, null, (copy, report) =>
        {
            int step = report.Step - 1;
            stopped |= !double.IsFinite(report.Loss);
            if (!stopped && step % monitorOptions.Interval == 0)
            {
                var record = monitor.Record(copy, step, cancellationToken);
                progress?.Report(record);
            }
        }, cancellationToken);
        try
        {
            int last = result.StepLosses.Count;
            if (!stopped && !result.Diverged && (monitor.Records.Count == 0 || monitor.Records[^1].Step < last))
            {
                var record = monitor.Record(result.Network, last, cancellationToken);
                progress?.Report(record);
            }

            var catapult = monitorOptions.ComputeTangentKernel && monitor.Records.Count > 0 ? monitor.DetectCatapult() : null;
            return new MonitoredTrainingResult<T>(result, monitor.Records.ToArray(), catapult);
        }
        catch
        {
            result.Network.Dispose();
            throw;
        }
    }
}
