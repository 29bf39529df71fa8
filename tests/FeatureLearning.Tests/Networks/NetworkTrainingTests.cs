using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.Networks.NetworkFixtures;

namespace FeatureLearning.Tests.Networks;

/// <summary>GD and SGD: the update rule against a hand-computed step, loss decrease, reproducibility, no mutation, progress, cancellation.</summary>
public sealed class NetworkTrainingTests
{
    private const int N = 12, D = 3, C = 2;

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.9, 0.01)]
    public void TwoGradientStepsFollowTheUpdateRule(double momentum, double decay)
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Tanh, Parameterization.Ntk, [5]), seed: 1, backend: Backend);
        var x = Inputs(N, D, 2);
        var y = Targets(N, C, 3, oneHot: false);
        var options = new NetworkTrainingOptions { LearningRate = 0.3, Epochs = 2, Momentum = momentum, WeightDecay = decay };

        // By hand: g = ∇L(w) + λw, v ← μv + g, w ← w − ηv.
        var w = network.GetParameters();
        var v = Vector<double>.Build.Dense(w.Count);
        using var reference = network.Clone();
        for (int step = 0; step < 2; step++)
        {
            var g = reference.LossGradient(x, y, NetworkLoss.MeanSquaredError).Gradient + (decay * w);
            v = (momentum * v) + g;
            w -= 0.3 * v;
            reference.SetParameters(w);
        }

        var result = network.Train(x, y, options);
        using var trained = result.Network;
        RelativeError(trained.GetParameters(), w).Should().BeLessThan(1e-13);
        result.StepLosses.Should().HaveCount(2);
        result.FinalLoss.Should().BeApproximately(reference.Loss(x, y, NetworkLoss.MeanSquaredError), 1e-13);
        result.Diverged.Should().BeFalse();
    }

    [Theory]
    [InlineData(NetworkLoss.MeanSquaredError, null, 0.0)]
    [InlineData(NetworkLoss.SoftmaxCrossEntropy, null, 0.0)]
    [InlineData(NetworkLoss.MeanSquaredError, 4, 0.5)]
    [InlineData(NetworkLoss.SoftmaxCrossEntropy, 5, 0.0)]
    public void TrainingDecreasesTheLossAndLeavesTheNetworkUnchanged(NetworkLoss loss, int? batchSize, double momentum)
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Gelu, Parameterization.Ntk, [8]), seed: 4, backend: Backend);
        var x = Inputs(N, D, 5);
        var y = Targets(N, C, 6, oneHot: loss == NetworkLoss.SoftmaxCrossEntropy);
        var before = network.GetParameters();
        double initial = network.Loss(x, y, loss);
        var reports = new List<NetworkTrainingProgress>();
        var options = new NetworkTrainingOptions { Loss = loss, LearningRate = 0.05, Epochs = 30, BatchSize = batchSize, Momentum = momentum, Seed = 9 };

        var result = network.Train(x, y, options, new SynchronousProgress<NetworkTrainingProgress>(reports.Add));
        using var trained = result.Network;

        result.FinalLoss.Should().BeLessThan(initial);
        result.FinalLoss.Should().BeApproximately(trained.Loss(x, y, loss), 1e-13);
        network.GetParameters().Should().Equal(before, "the network trained from is not changed");
        int stepsPerEpoch = (N + (batchSize ?? N) - 1) / (batchSize ?? N);
        result.StepLosses.Should().HaveCount(30 * stepsPerEpoch);
        result.EpochLosses.Should().HaveCount(30);
        reports.Count(r => r.EndOfEpoch).Should().Be(30);
        reports.Count(r => !r.EndOfEpoch).Should().Be(30 * stepsPerEpoch);
        if (batchSize is null)
        {
            result.StepLosses[0].Should().BeApproximately(initial, 1e-13);
            result.StepLosses.Zip(result.StepLosses.Skip(1)).Should().OnlyContain(p => p.Second < p.First, "full-batch GD with a small step decreases the loss every step");
        }

        // Same seed, same trajectory.
        using var again = network.Train(x, y, options).Network;
        again.GetParameters().Should().Equal(trained.GetParameters());
    }

    [Fact]
    public void TrainingHonoursCancellationAndReportsDivergence()
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Quadratic, Parameterization.Ntk, [6]), seed: 2, backend: Backend);
        var x = Inputs(N, D, 3);
        var y = Targets(N, C, 4, oneHot: false);
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress<NetworkTrainingProgress>(r =>
        {
            if (r.Step == 3)
            {
                cts.Cancel();
            }
        });
        FluentActions.Invoking(() => network.Train(x, y, new NetworkTrainingOptions { Epochs = 10 }, progress, cts.Token)).Should().Throw<OperationCanceledException>();

        var result = network.Train(x, y, new NetworkTrainingOptions { LearningRate = 1e3, Epochs = 200 });
        using var diverged = result.Network;
        result.Diverged.Should().BeTrue();
        result.StepLosses.Should().HaveCountLessThan(200);
        double.IsFinite(result.StepLosses[^1]).Should().BeFalse();
    }

    [Fact]
    public void FloatAndDoubleAgree()
    {
        var arch = Architecture(Activation.Erf, Parameterization.Standard, [6, 5]);
        using var d = FullyConnectedNetwork<double>.Create(arch, seed: 5, backend: Backend);
        using var f = FullyConnectedNetwork<float>.Create(arch, seed: 5, backend: Backend);
        var x = Inputs(N, D, 6);
        var y = Targets(N, C, 7, oneHot: false);
        var xf = x.Map(v => (float)v);
        var yf = y.Map(v => (float)v);
        RelativeError(f.GetParameters().Map(v => (double)v), d.GetParameters()).Should().BeLessThan(1e-7, "the same seed draws the same parameters");
        RelativeError(f.Predict(xf).Map(v => (double)v), d.Predict(x)).Should().BeLessThan(1e-5);
        RelativeError(f.LossGradient(xf, yf, NetworkLoss.MeanSquaredError).Gradient.Map(v => (double)v), d.LossGradient(x, y, NetworkLoss.MeanSquaredError).Gradient).Should().BeLessThan(1e-4);
        var v = Direction(d.ParameterCount, 8);
        RelativeError(f.LossHessianVectorProduct(xf, yf, NetworkLoss.MeanSquaredError, v.Map(e => (float)e)).Map(e => (double)e), d.LossHessianVectorProduct(x, y, NetworkLoss.MeanSquaredError, v)).Should().BeLessThan(1e-4);
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (Progress posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
