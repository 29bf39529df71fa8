using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using FeatureLearning.Samples.Catapult;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using static FeatureLearning.Tests.Networks.NetworkFixtures;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary>
/// <see cref="TrainingMonitor{T}"/> and <see cref="TrainingMonitor.Train{T}"/> against direct computations: the sharpness
/// against the explicit Hessian built from HVPs on unit vectors, the NTK top eigenvalue against EmpiricalNtk/n, the records
/// of a monitored run against separately trained copies, planted rank updates, and a real catapult against samples/Catapult.
/// </summary>
public sealed class TrainingMonitorTests
{
    private const int N = 6, D = 2, C = 2;

    private static FullyConnectedNetwork<double> Network() =>
        FullyConnectedNetwork<double>.Create(Architecture(Activation.Tanh, Parameterization.Ntk, [4], D, C), 7);

    private static double TopEigenvalueOfExplicitHessian(FullyConnectedNetwork<double> network, Matrix<double> x, Matrix<double> y)
    {
        int p = network.ParameterCount;
        var h = Matrix<double>.Build.Dense(p, p);
        for (int j = 0; j < p; j++)
        {
            var e = Vector<double>.Build.Dense(p);
            e[j] = 1;
            h.SetColumn(j, network.LossHessianVectorProduct(x, y, NetworkLoss.MeanSquaredError, e));
        }

        return (0.5 * (h + h.Transpose())).Evd(Symmetricity.Symmetric).EigenValues.Max(z => z.Real);
    }

    [Fact]
    public void ARecordHoldsTheSharpnessTheNtkTopAndNoMovementAtInit()
    {
        using var network = Network();
        var x = Inputs(N, D, 1);
        var y = Targets(N, C, 2, oneHot: false);
        var monitor = new TrainingMonitor<double>(network, x, y, 0.25, options: new TrainingMonitorOptions { Lanczos = new LanczosOptions { Seed = 3 } });

        var record = monitor.Record(network, 0);

        double sharpness = TopEigenvalueOfExplicitHessian(network, x, y);
        record.Sharpness!.Value.Should().BeApproximately(sharpness, 1e-8 * Math.Abs(sharpness));
        record.SharpnessConverged.Should().BeTrue();
        record.TwoOverEta.Should().Be(8);
        record.Loss.Should().Be(network.Loss(x, y, NetworkLoss.MeanSquaredError));
        var theta = EmpiricalNtk.Compute(network, x).Evd(Symmetricity.Symmetric).EigenValues.Select(z => z.Real).ToArray();
        record.NtkTop!.Value.Should().BeApproximately(theta.Max() / N, 1e-10 * theta.Max());
        record.NtkCondition!.Value.Should().BeApproximately(theta.Max() / theta.Min(), 1e-6 * theta.Max() / theta.Min());
        record.KernelMovement.Should().Be(0);
        record.EffectiveRanks.Should().Equal(0.0, 0.0);
        record.StableRanks.Should().Equal(0.0, 0.0);
        monitor.Records.Should().Equal(record);
    }

    [Fact]
    public void APlantedRankTwoUpdateOfTheFirstLayerHasEffectiveRankTwo()
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Tanh, Parameterization.Ntk, [6], 5, C), 7);
        var x = Inputs(N, 5, 1);
        var y = Targets(N, C, 2, oneHot: false);
        var monitor = new TrainingMonitor<double>(network, x, y, 0.1, options: new TrainingMonitorOptions { ComputeSharpness = false, ComputeTangentKernel = false });

        // W₀ is 6 × 5 row-major at offset 0 of the flat parameters.
        var update = EffectiveRankTests.Planted(6, 5, [0.3, 0.3], 21);
        var w = network.GetParameters();
        for (int i = 0; i < 6; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                w[(i * 5) + j] += update[i, j];
            }
        }

        using var moved = FullyConnectedNetwork<double>.FromParameters(network.Architecture, w);
        var record = monitor.Record(moved, 5);
        record.EffectiveRanks![0].Should().BeApproximately(2, 1e-9);
        record.StableRanks![0].Should().BeApproximately(2, 1e-9);
        record.EffectiveRanks[1].Should().Be(0, "the readout did not move");
        record.Sharpness.Should().BeNull();
        record.NtkTop.Should().BeNull();
        FluentActions.Invoking(monitor.DetectCatapult).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => monitor.Record(moved, 5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("step");
    }

    [Fact]
    public void AMonitoredRunRecordsTheNetworkAfterThatManyUpdates()
    {
        using var network = Network();
        var x = Inputs(N, D, 1);
        var y = Targets(N, C, 2, oneHot: false);
        var training = new NetworkTrainingOptions { LearningRate = 0.3, Epochs = 7 };
        var run = TrainingMonitor.Train(network, x, y, training, new TrainingMonitorOptions { Interval = 3, KernelSamples = 4, Lanczos = new LanczosOptions { Seed = 1 } });
        using var trained = run.Training.Network;

        run.Records.Select(r => r.Step).Should().Equal(0, 3, 6, 7);
        foreach (var record in run.Records.Skip(1))
        {
            using var copy = network.Train(x, y, training with { Epochs = record.Step }).Network;
            record.Loss.Should().BeApproximately(copy.Loss(x, y, NetworkLoss.MeanSquaredError), 1e-12 * record.Loss);
            record.Sharpness!.Value.Should().BeApproximately(TopEigenvalueOfExplicitHessian(copy, x, y), 1e-8 * record.Sharpness.Value);
            double movement = TangentKernelDiagnostics.RelativeMovement(network, copy, x.SubMatrix(0, 4, 0, D));
            record.KernelMovement!.Value.Should().BeApproximately(movement, 1e-10 * movement);
            record.EffectiveRanks!.Should().OnlyContain(r => r >= 1 && r <= 4);
        }

        run.Records[^1].Loss.Should().BeApproximately(run.Training.FinalLoss, 1e-12 * run.Training.FinalLoss);
        run.Catapult.Should().NotBeNull();
        run.Catapult!.IsCatapult.Should().BeFalse();
    }

    [Fact]
    public void MinibatchRecordsHoldTheFullLossAtEpochBoundaries()
    {
        using var network = Network();
        var x = Inputs(N, D, 1);
        var y = Targets(N, C, 2, oneHot: false);
        var training = new NetworkTrainingOptions { LearningRate = 0.2, Epochs = 2, BatchSize = 2, Seed = 4 };
        var run = TrainingMonitor.Train(network, x, y, training, new TrainingMonitorOptions { Interval = 3, ComputeSharpness = false });
        using var trained = run.Training.Network;

        run.Records.Select(r => r.Step).Should().Equal(0, 3, 6);
        using var afterOneEpoch = network.Train(x, y, training with { Epochs = 1 }).Network;
        double expected = afterOneEpoch.Loss(x, y, NetworkLoss.MeanSquaredError);
        run.Records[1].Loss.Should().BeApproximately(expected, 1e-12 * expected, "three minibatch steps are one epoch, with the same seeded shuffle");
        run.Records[2].Loss.Should().BeApproximately(run.Training.FinalLoss, 1e-12 * run.Training.FinalLoss);
    }

    [Fact]
    public void AMonitoredRunIsCancellable()
    {
        using var network = Network();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        FluentActions.Invoking(() => TrainingMonitor.Train(network, Inputs(N, D, 1), Targets(N, C, 2, oneHot: false), null, null, null, cancelled.Token))
            .Should().Throw<OperationCanceledException>();
        FluentActions.Invoking(() => TrainingMonitor.Train(network, Inputs(N, D, 1), Targets(N, C, 2, oneHot: false), null, new TrainingMonitorOptions { Interval = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Interval");
    }

    [Fact]
    public void TheMonitorSeesTheCatapultOfTheCatapultSample()
    {
        // samples/Catapult's setup: one hidden ReLU layer, v = ±1, one point with ‖x‖² = d, y = 1, η = 3/λ₀.
        const int Width = 256, Dim = 10, Steps = 60, Seed = 0;
        var sample = CatapultRun.Run(Width, Dim, 3.0, Steps, Seed, CatapultModel.Network);
        var architecture = new NetworkArchitecture
        {
            InputDimension = Dim, HiddenWidths = [Width], OutputDimension = 1, Activation = Activation.Relu,
            Parameterization = Parameterization.Ntk, WeightStd = 1, BiasStd = 0, OutputScale = 1,
        };
        using var network = FullyConnectedNetwork<double>.Create(architecture, Seed);
        var w = network.GetParameters();
        for (int i = (Width * Dim) + Width; i < w.Count; i++)
        {
            w[i] = w[i] >= 0 ? 1 : -1;
        }

        network.SetParameters(w);
        var normal = new Normal(0, 1, new Random(Seed + 1_000_003));
        var point = Vector<double>.Build.Dense(Dim, _ => normal.Sample());
        var x = (point * (Math.Sqrt(Dim) / point.L2Norm())).ToRowMatrix();
        var y = Matrix<double>.Build.Dense(1, 1, 1.0);

        var run = TrainingMonitor.Train(network, x, y, new NetworkTrainingOptions { LearningRate = sample.LearningRate, Epochs = Steps }, new TrainingMonitorOptions { Interval = 1, ComputeSharpness = false, ComputeEffectiveRanks = false });
        using var trained = run.Training.Network;

        for (int t = 0; t < Steps; t++)
        {
            run.Records[t].Loss.Should().BeApproximately(sample.Steps[t].Loss, 1e-9 * Math.Max(sample.Steps[t].Loss, 1e-12));
            run.Records[t].NtkTop!.Value.Should().BeApproximately(sample.Steps[t].TopEigenvalue, 1e-9 * sample.InitialEigenvalue);
        }

        run.Catapult!.IsCatapult.Should().BeTrue();
        sample.Outcome.Should().Be("catapult");
        run.Catapult.SpikeStep.Should().Be(sample.Detection.SpikeStep);
        run.Catapult.DropStep.Should().Be(sample.Detection.DropStep);
        run.Catapult.RecoveryStep.Should().Be(sample.Detection.RecoveryStep);
    }
}
