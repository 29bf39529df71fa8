using FeatureLearning.Compute;
using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Samples.Nfa;

/// <summary>One report of the run: the epoch, the test MSE, the NFA correlations of the first two layers and the alignment of the input AGOP with the target's.</summary>
internal readonly record struct NfaReport(int Epoch, double TrainMse, double TestMse, double Layer1Correlation, double Layer2Correlation, double TargetAlignment);

/// <summary>The settings of one run (the sample's command-line options).</summary>
internal sealed record NfaSettings
{
    public int Dimension { get; init; } = 20;

    public int Width { get; init; } = 128;

    public int TrainSize { get; init; } = 1000;

    public int TestSize { get; init; } = 1000;

    public int AgopSize { get; init; } = 500;

    public double InitScale { get; init; } = 0.1;

    public double LearningRate { get; init; } = 0.05;

    public double WeightDecay { get; init; } = 1e-3;

    public double Momentum { get; init; }

    public int BatchSize { get; init; } = 32;

    public int Epochs { get; init; } = 60;

    public int Every { get; init; } = 1;

    public bool RemoveInitial { get; init; }

    public int Seed { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming a setting out of range (the network and SGD check the rest).</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Dimension, 2, nameof(Dimension));
        ArgumentOutOfRangeException.ThrowIfLessThan(TrainSize, 1, nameof(TrainSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(TestSize, 1, nameof(TestSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(AgopSize, 1, nameof(AgopSize));
        ArgumentOutOfRangeException.ThrowIfNegative(Epochs, nameof(Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(Every, 1, nameof(Every));
    }
}

/// <summary>The planted task: x ~ N(0, I_d), y = (u₁ᵀx)(u₂ᵀx) for two orthonormal directions u₁, u₂ (seeded).</summary>
internal sealed record PlantedTask(Matrix<double> Directions, Matrix<double> TrainX, Matrix<double> TrainY, Matrix<double> TestX, Matrix<double> TestY)
{
    /// <summary>Draws the directions (Gram–Schmidt of two Gaussian vectors) and the data with <paramref name="seed"/>.</summary>
    public static PlantedTask Create(int d, int nTrain, int nTest, int seed)
    {
        var normal = new Normal(0, 1, new Random(seed));
        var u = Matrix<double>.Build.Dense(d, 2, (_, _) => normal.Sample());
        var q = u.QR().Q.SubMatrix(0, d, 0, 2);
        var trainX = Matrix<double>.Build.Dense(nTrain, d, (_, _) => normal.Sample());
        var testX = Matrix<double>.Build.Dense(nTest, d, (_, _) => normal.Sample());
        return new PlantedTask(q, trainX, Target(trainX, q), testX, Target(testX, q));
    }

    /// <summary>The gradients of the target at the rows of <paramref name="x"/>: ∇y = u₁(u₂ᵀx) + u₂(u₁ᵀx), one row per sample.</summary>
    public Matrix<double> TargetGradients(Matrix<double> x)
    {
        var p = x * Directions;
        return (p.Column(1).ToColumnMatrix() * Directions.Column(0).ToRowMatrix()) + (p.Column(0).ToColumnMatrix() * Directions.Column(1).ToRowMatrix());
    }

    private static Matrix<double> Target(Matrix<double> x, Matrix<double> u)
    {
        var p = x * u;
        return Matrix<double>.Build.Dense(x.RowCount, 1, (i, _) => p[i, 0] * p[i, 1]);
    }
}

/// <summary>
/// The core of samples/NeuralFeatureAnsatz, linked into the tests: a network d → m → m → 1 (ReLU, standard
/// parameterisation, initialisation scaled by <see cref="NfaSettings.InitScale"/>) trained by minibatch SGD on the
/// planted task, in chunks of <see cref="NfaSettings.Every"/> epochs, with a report before the first chunk and after each.
/// The AGOPs are evaluated at the first <see cref="NfaSettings.AgopSize"/> training inputs, uncentred, and compared at the
/// power ½.
/// </summary>
internal static class NeuralFeatureAnsatzRun
{
    /// <summary>Trains and reports; returns the trained network (the caller disposes it), its initial parameters and the task.</summary>
    public static (FullyConnectedNetwork<double> Network, Vector<double> Initial, PlantedTask Task) Run(NfaSettings settings, IComputeBackend? backend, Action<NfaReport> report, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var task = PlantedTask.Create(settings.Dimension, settings.TrainSize, settings.TestSize, settings.Seed);
        var agopX = task.TrainX.SubMatrix(0, Math.Min(settings.AgopSize, settings.TrainSize), 0, settings.Dimension);
        var target = TargetAgop(task, agopX);
        var architecture = new NetworkArchitecture
        {
            InputDimension = settings.Dimension, HiddenWidths = [settings.Width, settings.Width], OutputDimension = 1,
            Activation = Activation.Relu, Parameterization = Parameterization.Standard, WeightStd = Math.Sqrt(2), BiasStd = 0,
        };
        var network = FullyConnectedNetwork<double>.Create(architecture, settings.Seed + 1, settings.InitScale, backend);
        var initial = network.GetParameters();
        var w0 = settings.RemoveInitial ? initial : null;
        for (int epoch = 0; ; epoch += settings.Every)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // (W − W₀)ᵀ(W − W₀) is 0 at initialisation, where the correlation is undefined (NaN here, null in JSON).
            double Correlation(int layer) => epoch == 0 && w0 is not null ? double.NaN
                : NeuralFeatureAnsatz.Measure(network, agopX, layer, initialParameters: w0, cancellationToken: cancellationToken).Correlation;
            var row = new NfaReport(
                epoch,
                Mse(network, task.TrainX, task.TrainY),
                Mse(network, task.TestX, task.TestY),
                Correlation(0),
                Correlation(1),
                NeuralFeatureAnsatz.Alignment(NeuralFeatureAnsatz.LayerAgop(network, agopX, 0, cancellationToken: cancellationToken), target));
            report(row);
            if (epoch >= settings.Epochs || !double.IsFinite(row.TrainMse))
            {
                return (network, initial, task);
            }

            var sgd = new NetworkTrainingOptions
            {
                LearningRate = settings.LearningRate, WeightDecay = settings.WeightDecay, Momentum = settings.Momentum,
                BatchSize = settings.BatchSize, Epochs = Math.Min(settings.Every, settings.Epochs - epoch), Seed = settings.Seed + epoch,
            };
            var result = network.Train(task.TrainX, task.TrainY, sgd, cancellationToken: cancellationToken);
            network.Dispose();
            network = result.Network;
        }
    }

    /// <summary>The AGOP of the true function at the rows of <paramref name="x"/> (uncentred; E = u₁u₁ᵀ + u₂u₂ᵀ for Gaussian x).</summary>
    public static Matrix<double> TargetAgop(PlantedTask task, Matrix<double> x) => NeuralFeatureAnsatz.Agop([task.TargetGradients(x)]);

    /// <summary>The fraction tr(UᵀFU)/tr(F) of a feature matrix's energy in the planted subspace (2/d for an isotropic F).</summary>
    public static double PlantedEnergyFraction(Matrix<double> feature, Matrix<double> directions) =>
        (directions.TransposeThisAndMultiply(feature) * directions).Trace() / feature.Trace();

    /// <summary>The cosines of the principal angles between the top-2 eigenvectors of F and the planted subspace, smallest first.</summary>
    public static double[] PrincipalCosines(Matrix<double> feature, Matrix<double> directions)
    {
        var evd = feature.Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, feature.RowCount).OrderByDescending(i => evd.EigenValues[i].Real).Take(2).ToArray();
        var top = Matrix<double>.Build.DenseOfColumnVectors(order.Select(i => evd.EigenVectors.Column(i)));
        return top.TransposeThisAndMultiply(directions).Svd(false).S.ToArray().OrderBy(s => s).ToArray();
    }

    private static double Mse(FullyConnectedNetwork<double> network, Matrix<double> x, Matrix<double> y)
    {
        var r = network.Predict(x) - y;
        return r.FrobeniusNorm() * r.FrobeniusNorm() / x.RowCount;
    }
}
