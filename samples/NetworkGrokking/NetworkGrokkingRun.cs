using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Samples.NetworkGrokking;

/// <summary>One report of the run: epoch, train/test MSE and accuracy, circulant deviation of the first layer's WᵀW.</summary>
internal readonly record struct GrokkingReport(int Epoch, double TrainLoss, double TestLoss, double TrainAccuracy, double TestAccuracy, double Deviation);

/// <summary>The settings of one run (the sample's command-line options).</summary>
internal sealed record NetworkGrokkingSettings
{
    public int Modulus { get; init; } = 23;

    public int Width { get; init; } = 256;

    public double TrainFraction { get; init; } = 0.5;

    public double InitScale { get; init; } = 1;

    public double LearningRate { get; init; } = 50;

    public double WeightDecay { get; init; } = 2e-5;

    public int Epochs { get; init; } = 6000;

    public int Every { get; init; } = 200;

    public int Seed { get; init; }
}

/// <summary>
/// The core of samples/NetworkGrokking, linked into the tests: a two-layer network 2p → m → p (quadratic activation, NTK
/// parameterisation, σ_b = 0) trained by full-batch GD on the MSE of one-hot targets for a + b mod p, in chunks of
/// <see cref="NetworkGrokkingSettings.Every"/> epochs (no momentum, so the chunks are one run), with a report before the
/// first chunk and after each.
/// </summary>
internal static class NetworkGrokkingRun
{
    /// <summary>Trains and reports; returns the trained network (the caller disposes it) and the task's split.</summary>
    public static (FullyConnectedNetwork<double> Network, ModularArithmetic Task, int[] Train, int[] Test) Run(NetworkGrokkingSettings settings, IComputeBackend? backend, Action<GrokkingReport> report)
    {
        int p = settings.Modulus;
        var task = ModularArithmetic.Create(p, ModularOperation.Add);
        var (train, test) = task.Split(settings.TrainFraction, settings.Seed);
        var (xTrain, yTrain) = (task.Inputs<double>(train), task.Targets<double>(train));
        var (xTest, yTest) = (task.Inputs<double>(test), task.Targets<double>(test));
        var architecture = new NetworkArchitecture
        {
            InputDimension = 2 * p, HiddenWidths = [settings.Width], OutputDimension = p, Activation = Activation.Quadratic,
            Parameterization = Parameterization.Ntk, WeightStd = 1, BiasStd = 0, OutputScale = 1,
        };
        var gd = new NetworkTrainingOptions { LearningRate = settings.LearningRate, WeightDecay = settings.WeightDecay, Epochs = settings.Every };
        var network = FullyConnectedNetwork<double>.Create(architecture, settings.Seed, settings.InitScale, backend);
        for (int epoch = 0; ; epoch += settings.Every)
        {
            var row = new GrokkingReport(
                epoch,
                network.Loss(xTrain, yTrain, NetworkLoss.MeanSquaredError),
                network.Loss(xTest, yTest, NetworkLoss.MeanSquaredError),
                Accuracy(network.Predict(xTrain), task.Labels(train)),
                Accuracy(network.Predict(xTest), task.Labels(test)),
                GrokkingMeasures.CirculantDeviation(FirstLayerGram(network), p, ModularOperation.Add));
            report(row);
            if (epoch >= settings.Epochs || !double.IsFinite(row.TrainLoss))
            {
                return (network, task, train, test);
            }

            var result = network.Train(xTrain, yTrain, gd);
            network.Dispose();
            network = result.Network;
        }
    }

    /// <summary>WᵀW of the first layer (2p × 2p): W₀ is the first m·2p parameters, row-major m × 2p.</summary>
    public static Matrix<double> FirstLayerGram(FullyConnectedNetwork<double> network)
    {
        int d = network.Architecture.InputDimension, m = network.Architecture.HiddenWidths[0];
        var w = Matrix<double>.Build.DenseOfRowMajor(m, d, network.GetParameters().SubVector(0, m * d).ToArray());
        return w.TransposeThisAndMultiply(w);
    }

    private static double Accuracy(Matrix<double> f, int[] labels) => Enumerable.Range(0, labels.Length).Count(i => f.Row(i).MaximumIndex() == labels[i]) / (double)labels.Length;
}
