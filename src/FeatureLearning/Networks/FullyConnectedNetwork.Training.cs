using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Networks;

/// <content>Training by full-batch GD and minibatch SGD.</content>
public sealed partial class FullyConnectedNetwork<T>
{
    /// <summary>
    /// Trains a copy of this network by gradient descent (see <see cref="NetworkTrainingOptions"/>); this network is not
    /// changed. Every step is one forward and one reverse pass on the backend plus device AXPYs on the parameter buffer.
    /// </summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c.</param>
    /// <param name="options">The optimiser; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives a report after every step and at the end of every epoch.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>The trained copy and the loss history. A loss that is not finite stops training and sets <see cref="NetworkTrainingResult{T}.Diverged"/>.</returns>
    /// <exception cref="ArgumentException">Invalid data or options.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (the copy is disposed).</exception>
    public NetworkTrainingResult<T> Train(Matrix<T> inputs, Matrix<T> targets, NetworkTrainingOptions? options = null, IProgress<NetworkTrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        TrainWithHook(inputs, targets, options, progress, null, cancellationToken);

    /// <summary>
    /// <see cref="Train(Matrix{T}, Matrix{T}, NetworkTrainingOptions?, IProgress{NetworkTrainingProgress}?, CancellationToken)"/>
    /// with a synchronous hook: <paramref name="onStep"/> receives the copy being trained at every step report, before that
    /// step's update (its parameters are those after Step − 1 updates); it must not change them.
    /// </summary>
    internal NetworkTrainingResult<T> TrainWithHook(Matrix<T> inputs, Matrix<T> targets, NetworkTrainingOptions? options, IProgress<NetworkTrainingProgress>? progress, Action<FullyConnectedNetwork<T>, NetworkTrainingProgress>? onStep, CancellationToken cancellationToken)
    {
        options ??= new NetworkTrainingOptions();
        options.Validate();
        var y = CheckTrainingData(inputs, targets, options.Loss);
        var network = Clone();
        try
        {
            var reports = onStep is null ? progress : new StepHook(network, onStep, progress);
            var history = TrainParameters(network.parameters, inputs, y, options, (x, batchTargets, gradient, scope) => network.LossGradientOnDevice(x, batchTargets, options.Loss, gradient, scope), reports, cancellationToken);
            double final = history.Diverged ? double.NaN : network.Loss(inputs, targets, options.Loss);
            return new NetworkTrainingResult<T>(network, history.StepLosses, history.EpochLosses, final, history.Diverged || !double.IsFinite(final));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Validates training data (throwing <see cref="ArgumentException"/> naming the argument) and returns the targets in double, row-major.</summary>
    internal double[] CheckTrainingData(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss)
    {
        var y = CheckTargets(inputs, targets, loss);
        CheckInputShape(inputs.ColumnCount, nameof(inputs));
        return y;
    }

    /// <summary>Runs the shared GD/SGD loop on <paramref name="target"/> (a P × 1 parameter buffer on this network's backend) with validated data.</summary>
    internal TrainingHistory TrainParameters(DeviceBuffer<T> target, Matrix<T> inputs, double[] y, NetworkTrainingOptions options, DeviceLossGradient<T> lossGradient, IProgress<NetworkTrainingProgress>? progress, CancellationToken cancellationToken) =>
        GradientDescentLoop.Run(Backend, target, inputs.ToRowMajorArray(), inputs.RowCount, inputs.ColumnCount, y, Architecture.OutputDimension, options, lossGradient, progress, cancellationToken);

    /// <summary>Calls the hook synchronously on step reports, then forwards every report.</summary>
    private sealed class StepHook(FullyConnectedNetwork<T> network, Action<FullyConnectedNetwork<T>, NetworkTrainingProgress> onStep, IProgress<NetworkTrainingProgress>? inner) : IProgress<NetworkTrainingProgress>
    {
        public void Report(NetworkTrainingProgress value)
        {
            if (!value.EndOfEpoch)
            {
                onStep(network, value);
            }

            inner?.Report(value);
        }
    }
}
