using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.Networks.NetworkFixtures;

namespace FeatureLearning.Tests.Networks;

/// <summary>Validation naming the bad property or argument, the parameter layout and the initialisation statistics.</summary>
public sealed class NetworkArchitectureTests
{
    public static TheoryData<NetworkArchitecture, string> BadArchitectures() => new()
    {
        { new NetworkArchitecture { InputDimension = 0 }, nameof(NetworkArchitecture.InputDimension) },
        { new NetworkArchitecture { InputDimension = 2, HiddenWidths = [3, 0] }, nameof(NetworkArchitecture.HiddenWidths) },
        { new NetworkArchitecture { InputDimension = 2, HiddenWidths = null! }, nameof(NetworkArchitecture.HiddenWidths) },
        { new NetworkArchitecture { InputDimension = 2, OutputDimension = 0 }, nameof(NetworkArchitecture.OutputDimension) },
        { new NetworkArchitecture { InputDimension = 2, WeightStd = 0 }, nameof(NetworkArchitecture.WeightStd) },
        { new NetworkArchitecture { InputDimension = 2, BiasStd = double.NaN }, nameof(NetworkArchitecture.BiasStd) },
        { new NetworkArchitecture { InputDimension = 2, OutputScale = double.PositiveInfinity }, nameof(NetworkArchitecture.OutputScale) },
        { new NetworkArchitecture { InputDimension = 2, Parameterization = (Parameterization)7 }, nameof(NetworkArchitecture.Parameterization) },
        { new NetworkArchitecture { InputDimension = 2, Activation = new Activation((ActivationKind)9) }, nameof(Activation.Kind) },
        { new NetworkArchitecture { InputDimension = 2, Activation = Activation.LeakyRelu(double.NaN) }, nameof(Activation.Slope) },
    };

    [Theory]
    [MemberData(nameof(BadArchitectures))]
    public void InvalidArchitecturesNameTheProperty(NetworkArchitecture architecture, string property)
    {
        FluentActions.Invoking(() => FullyConnectedNetwork<double>.Create(architecture, 0, backend: Backend)).Should().Throw<ArgumentException>().WithParameterName(property);
    }

    [Fact]
    public void BadArgumentsAreRejectedWithTheirNames()
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Relu, Parameterization.Ntk, [4]), 0, backend: Backend);
        var x = Inputs(3, 3, 1);
        var y = Targets(3, 2, 1, oneHot: false);
        FluentActions.Invoking(() => network.Predict(Inputs(3, 4, 1))).Should().Throw<ArgumentException>().WithParameterName("inputs");
        var nan = x.Clone();
        nan[1, 1] = double.NaN;
        FluentActions.Invoking(() => network.Predict(nan)).Should().Throw<ArgumentException>().WithParameterName("inputs");
        FluentActions.Invoking(() => network.LossGradient(x, Targets(3, 3, 1, false), NetworkLoss.MeanSquaredError)).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => network.LossGradient(x, Targets(2, 2, 1, false), NetworkLoss.MeanSquaredError)).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => network.LossGradient(x, y, (NetworkLoss)5)).Should().Throw<ArgumentException>().WithParameterName("loss");
        FluentActions.Invoking(() => network.JacobianVectorProduct(x, Direction(5, 1))).Should().Throw<ArgumentException>().WithParameterName("direction");
        FluentActions.Invoking(() => network.VectorJacobianProduct(x, Targets(3, 1, 1, false))).Should().Throw<ArgumentException>().WithParameterName("cotangent");
        FluentActions.Invoking(() => network.SetParameters(Vector<double>.Build.Dense(network.ParameterCount, double.NaN))).Should().Throw<ArgumentException>().WithParameterName("values");
        FluentActions.Invoking(() => network.Jacobian(x, 2, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sampleCount");
        FluentActions.Invoking(() => network.LayerInputGradients(x, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("layer");
        FluentActions.Invoking(() => FullyConnectedNetwork<double>.Create(network.Architecture, 0, -1, Backend)).Should().Throw<ArgumentException>().WithParameterName("initializationScale");
        FluentActions.Invoking(() => network.Train(x, y, new NetworkTrainingOptions { BatchSize = 0 })).Should().Throw<ArgumentException>().WithParameterName("BatchSize");
        FluentActions.Invoking(() => network.Train(x, y, new NetworkTrainingOptions { Momentum = 1 })).Should().Throw<ArgumentException>().WithParameterName("Momentum");
        FluentActions.Invoking(() => network.Train(x, y, new NetworkTrainingOptions { LearningRate = 0 })).Should().Throw<ArgumentException>().WithParameterName("LearningRate");
        FluentActions.Invoking(() => network.Train(x, y, new NetworkTrainingOptions { Epochs = 0 })).Should().Throw<ArgumentException>().WithParameterName("Epochs");
        network.Dispose();
        FluentActions.Invoking(() => network.Predict(x)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void TheFlatVectorIsWeightsThenBiasesLayerByLayerAndTheForwardPassUsesThem()
    {
        // d = 3 → 4 → 2, standard parameterisation, identity activation: f = W₁(W₀x + b₀) + b₁, by hand from the flat vector.
        var arch = new NetworkArchitecture { InputDimension = 3, HiddenWidths = [4], OutputDimension = 2, Activation = Activation.Linear, Parameterization = Parameterization.Standard };
        arch.ParameterCount.Should().Be((4 * 3) + 4 + (2 * 4) + 2);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 3, backend: Backend);
        var w = network.GetParameters();
        var w0 = Matrix<double>.Build.DenseOfRowMajor(4, 3, w.SubVector(0, 12).ToArray());
        var b0 = w.SubVector(12, 4);
        var w1 = Matrix<double>.Build.DenseOfRowMajor(2, 4, w.SubVector(16, 8).ToArray());
        var b1 = w.SubVector(24, 2);
        var x = Inputs(5, 3, 4);
        var expected = Matrix<double>.Build.Dense(5, 2, (i, k) => ((w1 * ((w0 * x.Row(i)) + b0)) + b1)[k]);
        RelativeError(network.Predict(x), expected).Should().BeLessThan(1e-14);
        TestMatrices.Download(Backend, network.Weights(1)).Should().Equal(w.SubVector(16, 8).ToArray());
        TestMatrices.Download(Backend, network.Biases(0)).Should().Equal(b0.ToArray());
        network.Weights(0).Rows.Should().Be(4);
        network.Weights(0).Cols.Should().Be(3);
    }

    [Theory]
    [InlineData(Parameterization.Ntk, 1.0)]
    [InlineData(Parameterization.Standard, 1.0)]
    [InlineData(Parameterization.Ntk, 0.01)]
    public void InitialisationHasTheDocumentedScaleAndTheSmallFactor(Parameterization parameterization, double scale)
    {
        var arch = new NetworkArchitecture { InputDimension = 50, HiddenWidths = [400], OutputDimension = 3, Parameterization = parameterization, WeightStd = 2, BiasStd = 0.5 };
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 11, scale, Backend);
        var w0 = TestMatrices.Download(Backend, network.Weights(0));
        var b0 = TestMatrices.Download(Backend, network.Biases(0));
        double expectedWeightStd = scale * (parameterization == Parameterization.Ntk ? 1 : 2 / Math.Sqrt(50));
        double expectedBiasStd = scale * (parameterization == Parameterization.Ntk ? 1 : 0.5);
        Std(w0).Should().BeApproximately(expectedWeightStd, 0.03 * expectedWeightStd, "20,000 draws: the sample std is within 3%");
        Std(b0).Should().BeApproximately(expectedBiasStd, 0.15 * expectedBiasStd, "400 draws: within 15%");
        using var same = FullyConnectedNetwork<double>.Create(arch, seed: 11, scale, Backend);
        same.GetParameters().Should().Equal(network.GetParameters());
        using var clone = network.Clone();
        clone.GetParameters().Should().Equal(network.GetParameters());
        clone.SetParameters(clone.GetParameters() * 2);
        network.GetParameters().Should().Equal(same.GetParameters(), "a clone owns its parameters");
    }

    private static double Std(double[] values) => Math.Sqrt(values.Select(v => v * v).Average() - Math.Pow(values.Average(), 2));
}
