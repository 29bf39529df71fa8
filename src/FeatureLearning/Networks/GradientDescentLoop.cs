using FeatureLearning.Compute;

namespace FeatureLearning.Networks;

/// <summary>The loss of a batch on the device and its gradient in the parameters, written into <paramref name="gradient"/> (P × 1); returns L.</summary>
/// <typeparam name="T">float or double.</typeparam>
/// <param name="inputs">The batch's inputs, m × d, on the device.</param>
/// <param name="targets">The batch's targets, m × c, row-major, in double.</param>
/// <param name="gradient">Receives ∂L/∂w.</param>
/// <param name="scope">Owns the temporaries of the step.</param>
internal delegate double DeviceLossGradient<T>(DeviceBuffer<T> inputs, ReadOnlySpan<double> targets, DeviceBuffer<T> gradient, BufferScope<T> scope)
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;

/// <summary>The loss history of <see cref="GradientDescentLoop.Run"/>.</summary>
internal sealed record TrainingHistory(IReadOnlyList<double> StepLosses, IReadOnlyList<double> EpochLosses, bool Diverged);

/// <summary>
/// The GD/SGD loop of <see cref="NetworkTrainingOptions"/>, shared by every trainable model (the network and its Taylor
/// models): per epoch an optional shuffle (uploaded once), then per batch the loss gradient of the model and the update
/// g ← g + λw, v ← μv + g, w ← w − ηv on the parameter buffer.
/// </summary>
internal static class GradientDescentLoop
{
    public static TrainingHistory Run<T>(IComputeBackend backend, DeviceBuffer<T> parameters, T[] x, int n, int d, double[] y, int c, NetworkTrainingOptions options, DeviceLossGradient<T> lossGradient, IProgress<NetworkTrainingProgress>? progress, CancellationToken cancellationToken)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int batch = Math.Min(options.BatchSize ?? n, n);
        bool shuffle = batch < n;
        int p = parameters.Rows;
        using var scope = new BufferScope<T>(backend);
        var xDevice = scope.Upload(x, n, d);
        var gradient = scope.Allocate(p, 1);
        DeviceBuffer<T>? velocity = null;
        if (options.Momentum > 0)
        {
            velocity = scope.Allocate(p, 1);
            backend.Scale(T.Zero, velocity);
        }

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

                backend.Upload<T>(xs, xDevice);
            }

            double epochSum = 0;
            for (int start = 0; start < n; start += batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(batch, n - start);
                using var stepScope = new BufferScope<T>(backend);
                double loss = lossGradient(xDevice.RowRange(start, count), ys.AsSpan(start * c, count * c), gradient, stepScope);
                stepLosses.Add(loss);
                progress?.Report(new NetworkTrainingProgress(epoch, stepLosses.Count, loss, false));
                if (!double.IsFinite(loss))
                {
                    diverged = true;
                    break;
                }

                epochSum += loss * count;
                Update(backend, parameters, gradient, velocity, eta, decay, mu);
            }

            if (!diverged)
            {
                epochLosses.Add(epochSum / n);
                progress?.Report(new NetworkTrainingProgress(epoch, stepLosses.Count, epochSum / n, true));
            }
        }

        return new TrainingHistory(stepLosses, epochLosses, diverged);
    }

    /// <summary>g ← g + λw; v ← μv + g (with momentum); w ← w − η·(v or g).</summary>
    private static void Update<T>(IComputeBackend backend, DeviceBuffer<T> parameters, DeviceBuffer<T> gradient, DeviceBuffer<T>? velocity, T eta, T decay, T mu)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (decay != T.Zero)
        {
            backend.Axpy(decay, parameters, gradient);
        }

        var step = gradient;
        if (velocity is not null)
        {
            backend.Scale(mu, velocity);
            backend.Axpy(T.One, gradient, velocity);
            step = velocity;
        }

        backend.Axpy(-eta, step, parameters);
    }
}
