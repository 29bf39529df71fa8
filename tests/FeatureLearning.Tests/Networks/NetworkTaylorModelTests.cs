using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.Networks.NetworkFixtures;

namespace FeatureLearning.Tests.Networks;

/// <summary>
/// The linearised and quadratic models: Taylor remainders of the network of order ‖Δw‖² and ‖Δw‖³, gradients and Jacobian
/// products against central differences, exactness for a bilinear network, and linearised GD against the closed-form
/// kernel dynamics of the explicit-Jacobian NTK.
/// </summary>
public sealed class NetworkTaylorModelTests
{
    private const int N = 5, D = 3, C = 2;

    public static TheoryData<ActivationKind, int> SmoothCases() => new()
    {
        { ActivationKind.Tanh, 1 }, { ActivationKind.Gelu, 2 }, { ActivationKind.Erf, 3 },
    };

    [Theory]
    [MemberData(nameof(SmoothCases))]
    public void TheModelsAreTheFirstAndSecondOrderTaylorExpansionsOfTheNetwork(ActivationKind kind, int depth)
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(ActivationOf(kind), Parameterization.Ntk, Depths[depth - 1]), seed: 3, backend: Backend);
        using var linear = NetworkTaylorModel<double>.Create(network, TaylorOrder.Linear);
        using var quadratic = NetworkTaylorModel<double>.Create(network, TaylorOrder.Quadratic);
        var x = Inputs(N, D, 4);
        var w0 = network.GetParameters();
        var e = Direction(network.ParameterCount, 5);
        (quadratic.Predict(x) - network.Predict(x)).FrobeniusNorm().Should().BeLessThan(1e-13, "at w₀ the models are the network");

        // The remainders shrink like t² (linear) and t³ (quadratic) when the step t halves.
        double[] steps = [0.04, 0.02, 0.01];
        var linearErrors = new double[steps.Length];
        var quadraticErrors = new double[steps.Length];
        for (int s = 0; s < steps.Length; s++)
        {
            var w = w0 + (steps[s] * e);
            using var moved = FullyConnectedNetwork<double>.FromParameters(network.Architecture, w, Backend);
            var f = moved.Predict(x);
            linear.SetParameters(w);
            quadratic.SetParameters(w);
            linearErrors[s] = (f - linear.Predict(x)).FrobeniusNorm();
            quadraticErrors[s] = (f - quadratic.Predict(x)).FrobeniusNorm();
        }

        for (int s = 1; s < steps.Length; s++)
        {
            (linearErrors[s - 1] / linearErrors[s]).Should().BeInRange(3.6, 4.4, "the linear model's error is O(‖Δw‖²)");
            (quadraticErrors[s - 1] / quadraticErrors[s]).Should().BeInRange(7.2, 8.8, "the quadratic model's error is O(‖Δw‖³)");
        }
    }

    [Theory]
    [MemberData(nameof(SmoothCases))]
    public void TheQuadraticTermIsHalfTheOutputHessianFormAlongTheDisplacement(ActivationKind kind, int depth)
    {
        // f_quad − f_lin = ½ Δᵀ∇²f_ik Δ for every sample i and output k; the Hessian form from the network's exact output HVP.
        using var network = FullyConnectedNetwork<double>.Create(Architecture(ActivationOf(kind), Parameterization.Standard, Depths[depth - 1]), seed: 6, backend: Backend);
        using var linear = NetworkTaylorModel<double>.Create(network, TaylorOrder.Linear);
        using var quadratic = NetworkTaylorModel<double>.Create(network, TaylorOrder.Quadratic);
        var x = Inputs(N, D, 7);
        var delta = 0.7 * Direction(network.ParameterCount, 8);
        var w = network.GetParameters() + delta;
        linear.SetParameters(w);
        quadratic.SetParameters(w);
        var difference = quadratic.Predict(x) - linear.Predict(x);
        for (int i = 0; i < N; i++)
        {
            for (int k = 0; k < C; k++)
            {
                var u = Matrix<double>.Build.Dense(N, C);
                u[i, k] = 1;
                double form = delta * network.OutputHessianVectorProduct(x, u, delta);
                difference[i, k].Should().BeApproximately(0.5 * form, 1e-12 * Math.Max(1, Math.Abs(form)));
            }
        }
    }

    [Theory]
    [InlineData(ActivationKind.Relu, 1, TaylorOrder.Quadratic, NetworkLoss.MeanSquaredError)]
    [InlineData(ActivationKind.Tanh, 2, TaylorOrder.Quadratic, NetworkLoss.SoftmaxCrossEntropy)]
    [InlineData(ActivationKind.Gelu, 3, TaylorOrder.Quadratic, NetworkLoss.MeanSquaredError)]
    [InlineData(ActivationKind.Erf, 2, TaylorOrder.Linear, NetworkLoss.MeanSquaredError)]
    [InlineData(ActivationKind.LeakyRelu, 2, TaylorOrder.Linear, NetworkLoss.SoftmaxCrossEntropy)]
    public void LossGradientsAndJacobianProductsMatchFiniteDifferences(ActivationKind kind, int depth, TaylorOrder order, NetworkLoss loss)
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(ActivationOf(kind), Parameterization.Ntk, Depths[depth - 1]), seed: 9, backend: Backend);
        using var model = NetworkTaylorModel<double>.Create(network, order);
        var x = Inputs(N, D, 10);
        var y = Targets(N, C, 11, oneHot: loss == NetworkLoss.SoftmaxCrossEntropy);
        var w = network.GetParameters() + (0.5 * Direction(network.ParameterCount, 12));
        model.SetParameters(w);
        int p = model.ParameterCount;

        var exact = model.LossGradient(x, y, loss);
        exact.Loss.Should().BeApproximately(model.Loss(x, y, loss), 1e-14);
        var numeric = Vector<double>.Build.Dense(p);
        for (int j = 0; j < p; j++)
        {
            var e = Vector<double>.Build.Dense(p);
            e[j] = Step;
            model.SetParameters(w + e);
            double plus = model.Loss(x, y, loss);
            model.SetParameters(w - e);
            numeric[j] = (plus - model.Loss(x, y, loss)) / (2 * Step);
        }

        RelativeError(exact.Gradient, numeric).Should().BeLessThan(1e-7);

        // J·v by central differences of the outputs, and ⟨u, J·v⟩ = ⟨Jᵀu, v⟩.
        var v = Direction(p, 13);
        model.SetParameters(w + (Step * v));
        var fPlus = model.Predict(x);
        model.SetParameters(w - (Step * v));
        var fMinus = model.Predict(x);
        model.SetParameters(w);
        var jv = model.JacobianVectorProduct(x, v);
        var fd = (fPlus - fMinus) / (2 * Step);
        ((jv - fd).FrobeniusNorm() / fd.FrobeniusNorm()).Should().BeLessThan(1e-7);
        var u = Matrix<double>.Build.DenseOfRowMajor(N, C, TestMatrices.Random(N, C, 14));
        double left = u.PointwiseMultiply(jv).Enumerate().Sum();
        double right = model.VectorJacobianProduct(x, u) * v;
        left.Should().BeApproximately(right, 1e-12 * Math.Max(1, Math.Abs(left)));
    }

    [Fact]
    public void TheQuadraticModelOfABilinearNetworkIsTheNetworkItself()
    {
        // One hidden layer with the linear activation: f is of degree 2 in w, so its second-order expansion is exact for any Δ.
        var arch = Architecture(Activation.Linear, Parameterization.Ntk, [6]);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 15, backend: Backend);
        using var model = NetworkTaylorModel<double>.Create(network, TaylorOrder.Quadratic);
        var x = Inputs(N, D, 16);
        var w = network.GetParameters() + (2.0 * Direction(network.ParameterCount, 17));
        model.SetParameters(w);
        using var moved = FullyConnectedNetwork<double>.FromParameters(arch, w, Backend);
        var f = moved.Predict(x);
        ((model.Predict(x) - f).FrobeniusNorm() / f.FrobeniusNorm()).Should().BeLessThan(1e-13);
        var y = Targets(N, C, 18, oneHot: false);
        RelativeError(model.LossGradient(x, y, NetworkLoss.MeanSquaredError).Gradient, moved.LossGradient(x, y, NetworkLoss.MeanSquaredError).Gradient).Should().BeLessThan(1e-13);
    }

    [Fact]
    public void LinearisedGradientDescentFollowsTheKernelDynamicsOfTheEmpiricalNtk()
    {
        // GD on MSE of f_lin is kernel GD with K = J Jᵀ (J explicit, at w₀), train and test, step by step.
        var arch = Architecture(Activation.Tanh, Parameterization.Ntk, [5, 4], c: 1);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 19, backend: Backend);
        using var model = NetworkTaylorModel<double>.Create(network, TaylorOrder.Linear);
        var x = Inputs(N, D, 20);
        var xTest = Inputs(3, D, 21);
        var y = Targets(N, 1, 22, oneHot: false);
        var j = network.Jacobian(x);
        var flow = new KernelGradientFlow(j * j.Transpose(), y, network.Predict(x), network.Jacobian(xTest) * j.Transpose(), network.Predict(xTest));
        double eta = 0.6 * flow.MaxStableLearningRate;
        foreach (int steps in new[] { 1, 2, 5, 20 })
        {
            var result = model.Train(x, y, new NetworkTrainingOptions { LearningRate = eta, Epochs = steps });
            using var trained = result.Model;
            result.StepLosses.Should().HaveCount(steps);
            var expected = flow.TrainPredictionsAfterSteps(steps, eta);
            (trained.Predict(x) - expected).FrobeniusNorm().Should().BeLessThan(1e-12 * Math.Max(1, expected.FrobeniusNorm()));
            var expectedTest = flow.TestPredictionsAfterSteps(steps, eta);
            (trained.Predict(xTest) - expectedTest).FrobeniusNorm().Should().BeLessThan(1e-12 * Math.Max(1, expectedTest.FrobeniusNorm()));
            result.FinalLoss.Should().BeApproximately((expected - y).PointwisePower(2).Enumerate().Sum() / (2.0 * N), 1e-12);
        }
    }

    [Fact]
    public void TrainingTakesTheModelsGradientStepsAndLeavesTheModelUnchanged()
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Gelu, Parameterization.Ntk, [4]), seed: 23, backend: Backend);
        using var model = NetworkTaylorModel<double>.Create(network, TaylorOrder.Quadratic);
        var x = Inputs(N, D, 24);
        var y = Targets(N, C, 25, oneHot: false);
        var w0 = model.GetParameters();
        var result = model.Train(x, y, new NetworkTrainingOptions { LearningRate = 0.4, Epochs = 2 });
        using var trained = result.Model;

        // By hand: two steps w ← w − η∇L(w) with the model's own gradient.
        using var manual = model.Clone();
        for (int s = 0; s < 2; s++)
        {
            var g = manual.LossGradient(x, y, NetworkLoss.MeanSquaredError);
            result.StepLosses[s].Should().BeApproximately(g.Loss, 1e-14);
            manual.SetParameters(manual.GetParameters() - (0.4 * g.Gradient));
        }

        RelativeError(trained.GetParameters(), manual.GetParameters()).Should().BeLessThan(1e-13);
        (model.GetParameters() - w0).L2Norm().Should().Be(0);
        trained.GetInitialParameters().Should().Equal(network.GetParameters());
    }

    [Fact]
    public void FloatAgreesWithDoubleAndBadInputThrowsNamingTheArgument()
    {
        var arch = Architecture(Activation.Tanh, Parameterization.Ntk, [4]);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 26, backend: Backend);
        using var networkF = FullyConnectedNetwork<float>.Create(arch, seed: 26, backend: Backend);
        using var model = NetworkTaylorModel<double>.Create(network, TaylorOrder.Quadratic);
        using var modelF = NetworkTaylorModel<float>.Create(networkF, TaylorOrder.Quadratic);
        var delta = 0.3 * Direction(network.ParameterCount, 27);
        model.SetParameters(model.GetParameters() + delta);
        modelF.SetParameters(modelF.GetParameters() + delta.Map(v => (float)v));
        var x = Inputs(N, D, 28);
        var f = model.Predict(x);
        var fF = modelF.Predict(x.Map(v => (float)v)).Map(v => (double)v);
        ((f - fF).FrobeniusNorm() / f.FrobeniusNorm()).Should().BeLessThan(1e-5);

        FluentActions.Invoking(() => NetworkTaylorModel<double>.Create(network, (TaylorOrder)3)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("order");
        FluentActions.Invoking(() => model.SetParameters(Vector<double>.Build.Dense(2))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("values");
        FluentActions.Invoking(() => model.Predict(Inputs(N, D + 1, 1))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("inputs");
        FluentActions.Invoking(() => model.Train(x, Targets(N + 1, C, 1, false))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("targets");
    }
}
