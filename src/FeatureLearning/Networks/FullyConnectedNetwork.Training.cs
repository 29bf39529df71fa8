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
    public NetworkTrainingResult<T> Train(Matrix<T> inputs, Matrix<T> targets, NetworkTrainingOptions? options = null, IProgress<NetworkTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new NetworkTrainingOptions();
        options.Validate();
        var y = CheckTargets(inputs, targets, options.Loss);
        CheckInputShape(inputs.ColumnCount, nameof(inputs));
        int n = inputs.RowCount, d = inputs.ColumnCount, c = Architecture.OutputDimension;
        int batch = Math.Min(options.BatchSize ?? n, n);
        bool shuffle = batch < n;
        var network = Clone();
        try
        {
            using var scope = new BufferScope<T>(Backend);
            var x = inputs.ToRowMajorArray();
            var xDevice = scope.Upload(x, n, d);
            var gradient = scope.Allocate(ParameterCount, 1);
            var velocity = options.Momentum > 0 ? Zero(scope.Allocate(ParameterCount, 1)) : null;
            var order = Enumerable.Range(0, n).ToArray();
            var rng = new Random(options.Seed);
            var xs = new T[x.Length];
            var ys = y;
            var stepLosses = new List<double>();
            var epochLosses = new List<double>();
            bool diverged = false;
            T eta = T.CreateTruncating(options.LearningRate), decay = T.CreateTruncating(options.WeightDecay), mu = T.CreateTruncating(options.Momentum);
            for (int epoch = 0; epoch < options.Epochs && !diverged; epoch++)
            {
                if (shuffle)
                {
                    rng.Shuffle(order);
                    ys = new double[y.Length];
                    for (int i = 0; i < n; i++)
                    {
                        Array.Copy(x, order[i] * d, xs, i * d, d);
                        Array.Copy(y, order[i] * c, ys, i * c, c);
                    }

                    Backend.Upload<T>(xs, xDevice);
                }

                double epochSum = 0;
                for (int start = 0; start < n; start += batch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int count = Math.Min(batch, n - start);
                    using var stepScope = new BufferScope<T>(Backend);
                    double loss = network.LossGradientOnDevice(xDevice.RowRange(start, count), ys.AsSpan(start * c, count * c), options.Loss, gradient, stepScope);
                    stepLosses.Add(loss);
                    progress?.Report(new NetworkTrainingProgress(epoch, stepLosses.Count, loss, false));
                    if (!double.IsFinite(loss))
                    {
                        diverged = true;
                        break;
                    }

                    epochSum += loss * count;
                    network.Update(gradient, velocity, eta, decay, mu);
                }

                if (!diverged)
                {
                    epochLosses.Add(epochSum / n);
                    progress?.Report(new NetworkTrainingProgress(epoch, stepLosses.Count, epochSum / n, true));
                }
            }

            double final = diverged ? double.NaN : network.Loss(inputs, targets, options.Loss);
            return new NetworkTrainingResult<T>(network, stepLosses, epochLosses, final, diverged || !double.IsFinite(final));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>g ← g + λw; v ← μv + g (with momentum); w ← w − η·(v or g).</summary>
    private void Update(DeviceBuffer<T> gradient, DeviceBuffer<T>? velocity, T eta, T decay, T mu)
    {
        if (decay != T.Zero)
        {
            Backend.Axpy(decay, parameters, gradient);
        }

        var step = gradient;
        if (velocity is not null)
        {
            Backend.Scale(mu, velocity);
            Backend.Axpy(T.One, gradient, velocity);
            step = velocity;
        }

        Backend.Axpy(-eta, step, parameters);
    }
}
