using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.Networks.NetworkFixtures;

namespace FeatureLearning.Tests.Networks;

/// <summary>
/// Every exact derivative of <see cref="FullyConnectedNetwork{T}"/> against central finite differences in double precision, on
/// every activation, both parameterisations and depths 1–3: loss gradients (MSE and softmax cross-entropy), JVP and VJP and
/// their adjointness, the explicit Jacobian, HVPs of the loss and of the output, and the gradients in the inputs of every layer.
/// </summary>
public sealed class NetworkDerivativeTests
{
    private const int N = 5, D = 3, C = 2;

    // Central differences with h = 1e-5 have truncation error O(h²·f‴) and rounding error O(ε/h) ≈ 1e-11 relative.
    private const double FiniteDifferenceTolerance = 1e-6;

    public static TheoryData<ActivationKind, Parameterization, int> Cases()
    {
        var data = new TheoryData<ActivationKind, Parameterization, int>();
        foreach (var kind in Enum.GetValues<ActivationKind>())
        {
            foreach (var p in Enum.GetValues<Parameterization>())
            {
                for (int depth = 1; depth <= 3; depth++)
                {
                    data.Add(kind, p, depth);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientsJacobianProductsAndHessianProductsMatchFiniteDifferences(ActivationKind kind, Parameterization parameterization, int depth)
    {
        var activation = ActivationOf(kind);
        using var network = FullyConnectedNetwork<double>.Create(Architecture(activation, parameterization, Depths[depth - 1]), seed: 10 + depth, backend: Backend);
        var x = Inputs(N, D, 20 + depth);
        EnsureAwayFromKinks(network, x);
        int p = network.ParameterCount;

        // Loss gradients by reverse mode.
        foreach (var loss in Enum.GetValues<NetworkLoss>())
        {
            var y = Targets(N, C, 30, oneHot: loss == NetworkLoss.SoftmaxCrossEntropy);
            var exact = network.LossGradient(x, y, loss);
            exact.Loss.Should().BeApproximately(network.Loss(x, y, loss), 1e-12);
            var fd = Gradient(network, net => net.Loss(x, y, loss));
            RelativeError(exact.Gradient, fd).Should().BeLessThan(FiniteDifferenceTolerance, $"{loss} gradient");

            // HVP of the loss: the directional derivative of the exact gradient.
            var v = Direction(p, 40);
            var hvp = network.LossHessianVectorProduct(x, y, loss, v);
            var fdHvp = Directional(network, v, net => net.LossGradient(x, y, loss).Gradient);
            RelativeError(hvp, fdHvp).Should().BeLessThan(FiniteDifferenceTolerance, $"{loss} HVP");
        }

        // JVP against the directional derivative of the outputs; VJP and the explicit J.
        var direction = Direction(p, 41);
        var jvp = network.JacobianVectorProduct(x, direction);
        var fdJvp = Directional(network, direction, net => Flatten(net.Predict(x)));
        RelativeError(Flatten(jvp), fdJvp).Should().BeLessThan(FiniteDifferenceTolerance, "JVP");

        var u = Matrix<double>.Build.DenseOfRowMajor(N, C, TestMatrices.Random(N, C, 42));
        var vjp = network.VectorJacobianProduct(x, u);
        var fdVjp = Gradient(network, net => Flatten(net.Predict(x)) * Flatten(u));
        RelativeError(vjp, fdVjp).Should().BeLessThan(FiniteDifferenceTolerance, "VJP");
        (Flatten(u) * Flatten(jvp)).Should().BeApproximately(vjp * direction, 1e-12 * (1 + Math.Abs(vjp * direction)), "⟨u, Jv⟩ = ⟨Jᵀu, v⟩");

        var j = network.Jacobian(x);
        j.RowCount.Should().Be(N * C);
        j.ColumnCount.Should().Be(p);
        RelativeError(j * direction, Flatten(jvp)).Should().BeLessThan(1e-12, "J·v = JVP");
        RelativeError(j.TransposeThisAndMultiply(Flatten(u)), vjp).Should().BeLessThan(1e-12, "Jᵀu = VJP");
        var block = network.Jacobian(x, 2, 2);
        RelativeError(block, j.SubMatrix(2 * C, 2 * C, 0, p)).Should().BeLessThan(1e-13, "a row block of J");

        // HVP of the output contracted with u: the directional derivative of the VJP.
        var outputHvp = network.OutputHessianVectorProduct(x, u, direction);
        var fdOutputHvp = Directional(network, direction, net => net.VectorJacobianProduct(x, u));
        RelativeError(outputHvp, fdOutputHvp).Should().BeLessThan(FiniteDifferenceTolerance, "output HVP");

        // Gradients in the inputs, per sample and output: perturb input column j of every sample at once.
        var inputGradients = network.InputGradients(x);
        inputGradients.Should().HaveCount(C);
        for (int col = 0; col < D; col++)
        {
            var e = Matrix<double>.Build.Dense(N, D);
            e.SetColumn(col, Vector<double>.Build.Dense(N, 1));
            var df = (network.Predict(x + (Step * e)) - network.Predict(x - (Step * e))) / (2 * Step);
            for (int k = 0; k < C; k++)
            {
                RelativeError(inputGradients[k].Column(col), df.Column(k)).Should().BeLessThan(FiniteDifferenceTolerance, $"∂f_{k}/∂x_{col}");
            }
        }
    }

    [Theory]
    [InlineData(ActivationKind.Tanh, Parameterization.Ntk)]
    [InlineData(ActivationKind.Gelu, Parameterization.Standard)]
    [InlineData(ActivationKind.LeakyRelu, Parameterization.Ntk)]
    public void LayerInputGradientsMatchTheInputGradientsOfTheTailNetwork(ActivationKind kind, Parameterization parameterization)
    {
        // Layer l's input h_l = φ(z_(l−1)) comes from the head network (layers 0 … l − 1); the tail (layers l … L) maps it to f,
        // and the tail's input gradients are checked against finite differences above and here.
        var activation = ActivationOf(kind);
        using var network = FullyConnectedNetwork<double>.Create(Architecture(activation, parameterization, Depths[2]), seed: 7, backend: Backend);
        var x = Inputs(N, D, 8);
        EnsureAwayFromKinks(network, x);
        for (int layer = 1; layer <= 3; layer++)
        {
            using var head = Head(network, layer);
            using var tail = Tail(network, layer);
            var h = head.Predict(x).Map(activation.Value);
            var pass = network.Forward(x);
            RelativeError(pass.PreActivations[layer - 1], head.Predict(x)).Should().BeLessThan(1e-14, "z_(l−1) is the head's output");
            RelativeError(pass.Activations[layer - 1], h).Should().BeLessThan(1e-14, "h_l = φ(z_(l−1))");
            RelativeError(pass.Output, network.Predict(x)).Should().BeLessThan(1e-15);
            RelativeError(tail.Predict(h), network.Predict(x)).Should().BeLessThan(1e-13, "the tail of the head's output is the network");
            var exact = network.LayerInputGradients(x, layer);
            var expected = tail.InputGradients(h);
            for (int k = 0; k < C; k++)
            {
                RelativeError(exact[k], expected[k]).Should().BeLessThan(1e-12, $"layer {layer}, output {k}");
                for (int col = 0; col < h.ColumnCount; col++)
                {
                    var e = Matrix<double>.Build.Dense(N, h.ColumnCount);
                    e.SetColumn(col, Vector<double>.Build.Dense(N, 1));
                    var df = (tail.Predict(h + (Step * e)) - tail.Predict(h - (Step * e))) / (2 * Step);
                    RelativeError(exact[k].Column(col), df.Column(k)).Should().BeLessThan(FiniteDifferenceTolerance);
                }
            }
        }

        network.LayerInputGradients(x, 0)[1].Should().BeEquivalentTo(network.InputGradients(x)[1]);
    }

    [Fact]
    public void CrossEntropyDerivativesHoldForTargetsThatAreNotProbabilities()
    {
        // sᵢ = Σₖ y_ik ≠ 1: the gradient (sᵢpᵢ − yᵢ)/n and the curvature sᵢ(diag p − ppᵀ)/n against finite differences.
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Tanh, Parameterization.Standard, [4, 3], c: 3), seed: 12, backend: Backend);
        var x = Inputs(N, D, 13);
        var y = Matrix<double>.Build.DenseOfRowMajor(N, 3, TestMatrices.Random(N, 3, 14).Select(v => v + 1.2).ToArray());
        var exact = network.LossGradient(x, y, NetworkLoss.SoftmaxCrossEntropy).Gradient;
        RelativeError(exact, Gradient(network, net => net.Loss(x, y, NetworkLoss.SoftmaxCrossEntropy))).Should().BeLessThan(FiniteDifferenceTolerance);
        var v = Direction(network.ParameterCount, 15);
        var fd = Directional(network, v, net => net.LossGradient(x, y, NetworkLoss.SoftmaxCrossEntropy).Gradient);
        RelativeError(network.LossHessianVectorProduct(x, y, NetworkLoss.SoftmaxCrossEntropy, v), fd).Should().BeLessThan(FiniteDifferenceTolerance);
    }

    [Theory]
    [InlineData(8, 3)]
    [InlineData(32, 5)]
    public void TheOutputHessianOfAOneHiddenLayerReluNetworkHasNormOneOverSqrtWidth(int m, int d)
    {
        // f = (1/√m) Σᵢ vᵢ relu(uᵢᵀx/√d) (NTK parameterisation, σ_w = 1, σ_b = 0). Its Hessian is [[0, B], [Bᵀ, 0]] with
        // row i of B = (1/√m)·relu′(uᵢᵀx/√d)·xᵀ/√d in the block of uᵢ, so ‖H‖ = max_i |relu′|·‖x‖/√(d·m) = 1/√m for ‖x‖² = d
        // (some unit is active). H is assembled column by column from exact HVPs.
        var arch = new NetworkArchitecture { InputDimension = d, HiddenWidths = [m], OutputDimension = 1, Activation = Activation.Relu };
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 21, backend: Backend);
        var x = Inputs(1, d, 22);
        x = x * (Math.Sqrt(d) / x.Row(0).L2Norm());
        int p = network.ParameterCount;
        var u = Matrix<double>.Build.Dense(1, 1, 1.0);
        var h = Matrix<double>.Build.Dense(p, p);
        for (int j = 0; j < p; j++)
        {
            var e = Vector<double>.Build.Dense(p);
            e[j] = 1;
            h.SetColumn(j, network.OutputHessianVectorProduct(x, u, e));
        }

        (h - h.Transpose()).InfinityNorm().Should().BeLessThan(1e-14, "the Hessian is symmetric");
        double norm = h.Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric).EigenValues.Select(l => l.Magnitude).Max();
        norm.Should().BeApproximately(1 / Math.Sqrt(m), 1e-12);
    }

    [Fact]
    public void TheCrossEntropyIsTheMeanNegativeLogSoftmaxAndMseIsHalfTheMeanSquaredNorm()
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Tanh, Parameterization.Ntk, [4]), seed: 3, backend: Backend);
        var x = Inputs(N, D, 4);
        var f = network.Predict(x);
        var onehot = Targets(N, C, 5, oneHot: true);
        double ce = 0;
        for (int i = 0; i < N; i++)
        {
            double lse = Math.Log(f.Row(i).Select(Math.Exp).Sum());
            for (int k = 0; k < C; k++)
            {
                ce -= onehot[i, k] * (f[i, k] - lse);
            }
        }

        network.Loss(x, onehot, NetworkLoss.SoftmaxCrossEntropy).Should().BeApproximately(ce / N, 1e-13);
        var y = Targets(N, C, 6, oneHot: false);
        network.Loss(x, y, NetworkLoss.MeanSquaredError).Should().BeApproximately((f - y).FrobeniusNorm() * (f - y).FrobeniusNorm() / (2 * N), 1e-13);
    }

    private static Vector<double> Flatten(Matrix<double> m) => Vector<double>.Build.DenseOfArray(m.ToRowMajorArray());

    /// <summary>For ReLU and leaky ReLU: no pre-activation lies within a margin of the kink, so no finite difference crosses it.</summary>
    private static void EnsureAwayFromKinks(FullyConnectedNetwork<double> network, Matrix<double> x)
    {
        if (network.Architecture.Activation.Kind is ActivationKind.Relu or ActivationKind.LeakyRelu)
        {
            PreActivations(network, x).Min(Math.Abs).Should().BeGreaterThan(1e-3, "the seeds keep every pre-activation away from the kink");
        }
    }
}
