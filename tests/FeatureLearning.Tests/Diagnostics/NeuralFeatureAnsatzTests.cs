using FeatureLearning.Diagnostics;
using FeatureLearning.Kernels;
using FeatureLearning.Networks;
using FeatureLearning.Rfm;
using FeatureLearning.Tests.Networks;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary>The layer AGOP, the neural feature matrix, the NFA correlation and the alignment on tiny cases with known answers.</summary>
public sealed class NeuralFeatureAnsatzTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void TheLayerAgopEqualsTheAgopOfFiniteDifferenceGradients(int layer)
    {
        // 3 → 4 → 3 → 2, tanh, NTK parameterisation with biases: the gradients in h_l by central differences of the tail
        // network (layers l … L, whose parameters are the suffix of the flat vector) at h_l from the forward pass.
        var architecture = NetworkFixtures.Architecture(Activation.Tanh, Parameterization.Ntk, [4, 3]);
        using var network = FullyConnectedNetwork<double>.Create(architecture, 3);
        var x = NetworkFixtures.Inputs(6, 3, 11);
        var h = layer == 0 ? x : network.Forward(x).Activations[layer - 1];
        int offset = Enumerable.Range(0, layer).Sum(l => architecture.FanOut(l) * (architecture.FanIn(l) + 1));
        var tailArchitecture = architecture with { InputDimension = architecture.FanIn(layer), HiddenWidths = architecture.HiddenWidths.Skip(layer).ToArray() };
        var parameters = network.GetParameters();
        using var tail = FullyConnectedNetwork<double>.FromParameters(tailArchitecture, parameters.SubVector(offset, parameters.Count - offset));
        int n = h.RowCount, d = h.ColumnCount, c = architecture.OutputDimension;
        var expected = Matrix<double>.Build.Dense(d, d);
        for (int i = 0; i < n; i++)
        {
            var g = Matrix<double>.Build.Dense(c, d);
            for (int j = 0; j < d; j++)
            {
                var plus = h.SubMatrix(i, 1, 0, d);
                var minus = plus.Clone();
                plus[0, j] += NetworkFixtures.Step;
                minus[0, j] -= NetworkFixtures.Step;
                var diff = (tail.Predict(plus) - tail.Predict(minus)) / (2 * NetworkFixtures.Step);
                for (int k = 0; k < c; k++)
                {
                    g[k, j] = diff[0, k];
                }
            }

            expected += g.TransposeThisAndMultiply(g) / n; // Σ_k g_k g_kᵀ, averaged over the samples
        }

        var agop = NeuralFeatureAnsatz.LayerAgop(network, x, layer);
        agop.RowCount.Should().Be(architecture.FanIn(layer));
        (agop - expected).InfinityNorm().Should().BeLessThan(1e-8 * expected.InfinityNorm());
        expected.InfinityNorm().Should().BeGreaterThan(1e-3, "the check is not vacuous");
    }

    [Fact]
    public void TheUncentredAgopIsTheCentredOnePlusTheOuterProductsOfTheMeanGradients()
    {
        var architecture = NetworkFixtures.Architecture(Activation.Tanh, Parameterization.Standard, [5, 4]);
        using var network = FullyConnectedNetwork<double>.Create(architecture, 5);
        var x = NetworkFixtures.Inputs(9, 3, 2);
        var gradients = network.LayerInputGradients(x, 1);
        var meanOuter = Matrix<double>.Build.Dense(5, 5);
        foreach (var g in gradients)
        {
            var mean = g.ColumnSums() / g.RowCount;
            meanOuter += mean.OuterProduct(mean);
        }

        var uncentred = NeuralFeatureAnsatz.LayerAgop(network, x, 1);
        var centred = NeuralFeatureAnsatz.LayerAgop(network, x, 1, centre: true);
        (uncentred - (centred + meanOuter)).InfinityNorm().Should().BeLessThan(1e-12 * uncentred.InfinityNorm());
        meanOuter.InfinityNorm().Should().BeGreaterThan(1e-3, "the mean gradients are not zero here");

        // In batches of 2 (the last batch of 1) the accumulation gives the same matrices.
        (NeuralFeatureAnsatz.LayerAgop(network, x, 1, centre: true, batchSize: 2) - centred).InfinityNorm().Should().BeLessThan(1e-12 * centred.InfinityNorm());
    }

    [Fact]
    public void TheLayerAgopInSinglePrecisionMatchesDoubleAndReportsItsBatches()
    {
        var architecture = NetworkFixtures.Architecture(Activation.Tanh, Parameterization.Ntk, [5, 4]);
        using var network = FullyConnectedNetwork<double>.Create(architecture, 8);
        using var single = FullyConnectedNetwork<float>.Create(architecture, 8);
        var x = NetworkFixtures.Inputs(9, 3, 4);
        var reported = new List<int>();
        var g = NeuralFeatureAnsatz.LayerAgop(network, x, 1, batchSize: 4, progress: new SyncProgress(reported.Add));
        var gf = NeuralFeatureAnsatz.LayerAgop(single, x.Map(v => (float)v), 1);
        reported.Should().Equal(4, 8, 9);
        (g - gf).InfinityNorm().Should().BeLessThan(1e-5 * g.InfinityNorm());
    }

    [Fact]
    public void TheAgopOfGivenGradientsIsTheMeanOverSamplesOfTheSumOverOutputs()
    {
        // Two samples, two outputs, d = 2: g_11 = (1, 0), g_21 = (0, 2); g_12 = (1, 1), g_22 = (3, 0).
        var output1 = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 }, { 0, 2 } });
        var output2 = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 1 }, { 3, 0 } });
        var g = NeuralFeatureAnsatz.Agop([output1, output2]);

        // ((1,0)(1,0)ᵀ + (0,2)(0,2)ᵀ + (1,1)(1,1)ᵀ + (3,0)(3,0)ᵀ) / 2 = [[11, 1], [1, 5]] / 2.
        g.Should().BeEquivalentTo(Matrix<double>.Build.DenseOfArray(new double[,] { { 5.5, 0.5 }, { 0.5, 2.5 } }));

        // Centred: the means (0.5, 1) and (2, 0.5) removed.
        var centred = NeuralFeatureAnsatz.Agop([output1, output2], centre: true);
        centred[0, 0].Should().BeApproximately(5.5 - 0.25 - 4, 1e-14);
        centred[0, 1].Should().BeApproximately(0.5 - 0.5 - 1, 1e-14);
        centred[1, 1].Should().BeApproximately(2.5 - 1 - 0.25, 1e-14);

        var act = () => NeuralFeatureAnsatz.Agop([output1, Matrix<double>.Build.Dense(3, 2)]);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("gradients");
    }

    [Fact]
    public void TheNeuralFeatureMatrixIsTheGramOfTheLayersWeightsWithOrWithoutTheInitialOnes()
    {
        var architecture = NetworkFixtures.Architecture(Activation.Relu, Parameterization.Ntk, [4, 3]);
        using var network = FullyConnectedNetwork<double>.Create(architecture, 7);
        var initial = network.GetParameters();

        // Layer 1's W (3 × 4) starts at offset 4·(3 + 1) = 16.
        var w = Matrix<double>.Build.DenseOfRowMajor(3, 4, initial.SubVector(16, 12).ToArray());
        (NeuralFeatureAnsatz.NeuralFeatureMatrix(network, 1) - w.TransposeThisAndMultiply(w)).InfinityNorm().Should().BeLessThan(1e-14);

        // Move layer 1's weights by δ (and a bias and layer 0, which must not count): (W − W₀)ᵀ(W − W₀) = δᵀδ.
        var delta = Matrix<double>.Build.DenseOfRowMajor(3, 4, TestMatrices.Random(3, 4, 9));
        var moved = initial.Clone();
        for (int i = 0; i < 12; i++)
        {
            moved[16 + i] += delta.ToRowMajorArray()[i];
        }

        moved[0] += 1;
        moved[28] += 1;
        network.SetParameters(moved);
        (NeuralFeatureAnsatz.NeuralFeatureMatrix(network, 1, initial) - delta.TransposeThisAndMultiply(delta)).InfinityNorm().Should().BeLessThan(1e-12);

        var shortVector = () => NeuralFeatureAnsatz.NeuralFeatureMatrix(network, 1, initial.SubVector(0, 5));
        shortVector.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("initialParameters");
        var badLayer = () => NeuralFeatureAnsatz.NeuralFeatureMatrix(network, 3);
        badLayer.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("layer");
    }

    [Fact]
    public void TheCorrelationIsOneForAMultipleOfTheAgopsSquareRoot()
    {
        // AGOP = V diag(4, 1, 0.25, 0) Vᵀ for a random orthogonal V, WᵀW = 3·V diag(2, 1, 0.5, 0) Vᵀ.
        var v = Matrix<double>.Build.DenseOfRowMajor(4, 4, TestMatrices.Random(4, 4, 3)).QR().Q;
        var agop = v * Matrix<double>.Build.DiagonalOfDiagonalArray([4, 1, 0.25, 0]) * v.Transpose();
        var feature = 3 * v * Matrix<double>.Build.DiagonalOfDiagonalArray([2, 1, 0.5, 0]) * v.Transpose();
        NeuralFeatureAnsatz.Correlation(feature, agop).Should().BeApproximately(1, 1e-12);

        // With s = 1 the same pair is not perfectly correlated, and WᵀW against AGOP itself is.
        NeuralFeatureAnsatz.Correlation(feature, agop, 1).Should().BeLessThan(0.999);
        NeuralFeatureAnsatz.Correlation(agop, agop, 1).Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void ThePearsonCorrelationMatchesAHandComputedValue()
    {
        // Flattened: (1, 3, 2, 4) and (2, 4, 1, 3); deviations from 2.5: Σ dx·dy = 3, Σ dx² = Σ dy² = 5, so ρ = 0.6.
        var a = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = Matrix<double>.Build.DenseOfArray(new double[,] { { 2, 1 }, { 4, 3 } });
        NeuralFeatureAnsatz.PearsonCorrelation(a, b).Should().BeApproximately(0.6, 1e-15);
        NeuralFeatureAnsatz.PearsonCorrelation(b, a).Should().BeApproximately(0.6, 1e-15);
        NeuralFeatureAnsatz.PearsonCorrelation(a, -2 * a + 1).Should().BeApproximately(-1, 1e-15);

        // A constant matrix (a zero AGOP) leaves the correlation undefined: an exception naming the argument, not NaN.
        var constant = () => NeuralFeatureAnsatz.PearsonCorrelation(a, Matrix<double>.Build.Dense(2, 2));
        constant.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("b");
        var zeroAgop = () => NeuralFeatureAnsatz.Correlation(a, Matrix<double>.Build.Dense(2, 2));
        zeroAgop.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("b");
        var shapes = () => NeuralFeatureAnsatz.PearsonCorrelation(a, Matrix<double>.Build.Dense(2, 3, 1));
        shapes.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("b");
    }

    [Fact]
    public void TheSymmetricPowerClampsRoundingNegativeEigenvalues()
    {
        // diag(9, 1, −1e-15) rotated: the square root is V diag(3, 1, 0) Vᵀ, finite. The third eigenvalue is at the rounding
        // level of A (ε‖A‖ ≈ 2e-15): a backward-stable solver returns it within a few ε‖A‖ of its value, of either sign, and
        // its square root is then at most about √(4ε‖A‖) ≈ 1e-7, which bounds the error; a negative one must give 0, not NaN.
        var v = Matrix<double>.Build.DenseOfRowMajor(3, 3, TestMatrices.Random(3, 3, 5)).QR().Q;
        var a = v * Matrix<double>.Build.DiagonalOfDiagonalArray([9, 1, -1e-15]) * v.Transpose();
        var root = NeuralFeatureAnsatz.SymmetricPower(a, 0.5);
        var expected = v * Matrix<double>.Build.DiagonalOfDiagonalArray([3, 1, 0]) * v.Transpose();
        root.ToRowMajorArray().Should().OnlyContain(x => double.IsFinite(x));
        (root - expected).InfinityNorm().Should().BeLessThan(Math.Sqrt(4 * 2.220446049250313e-16 * 9));
        var clearlyNegative = v * Matrix<double>.Build.DiagonalOfDiagonalArray([9, 1, -1e-6]) * v.Transpose();
        (NeuralFeatureAnsatz.SymmetricPower(clearlyNegative, 0.5) - expected).InfinityNorm().Should().BeLessThan(1e-12, "a negative eigenvalue is taken as 0");

        var badPower = () => NeuralFeatureAnsatz.SymmetricPower(a, 0);
        badPower.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("power");
        var notSquare = () => NeuralFeatureAnsatz.SymmetricPower(Matrix<double>.Build.Dense(2, 3, 1), 0.5);
        notSquare.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("matrix");
    }

    [Fact]
    public void TheAlignmentIsSymmetricAndOneForEqualMatrices()
    {
        var a = Matrix<double>.Build.DenseOfRowMajor(3, 3, TestMatrices.Random(3, 3, 1));
        a = a.TransposeThisAndMultiply(a);
        var b = Matrix<double>.Build.DenseOfRowMajor(3, 3, TestMatrices.Random(3, 3, 2));
        b = b.TransposeThisAndMultiply(b);
        NeuralFeatureAnsatz.Alignment(a, a).Should().BeApproximately(1, 1e-15);
        NeuralFeatureAnsatz.Alignment(a, 2.5 * a).Should().BeApproximately(1, 1e-15);
        NeuralFeatureAnsatz.Alignment(a, b).Should().BeApproximately(NeuralFeatureAnsatz.Alignment(b, a), 1e-15);

        // ⟨I, diag(1, 0)⟩ = 1, ‖I‖ = √2, ‖diag(1, 0)‖ = 1.
        var half = NeuralFeatureAnsatz.Alignment(Matrix<double>.Build.DenseIdentity(2), Matrix<double>.Build.DiagonalOfDiagonalArray([1, 0]));
        half.Should().BeApproximately(1 / Math.Sqrt(2), 1e-15);
    }

    [Fact]
    public void MeasureCombinesTheFeatureMatrixTheLayerAgopAndItsPower()
    {
        var architecture = NetworkFixtures.Architecture(Activation.Tanh, Parameterization.Ntk, [4, 3]);
        using var network = FullyConnectedNetwork<double>.Create(architecture, 4);
        var x = NetworkFixtures.Inputs(8, 3, 6);
        var measured = NeuralFeatureAnsatz.Measure(network, x, 1, new NfaOptions { CentreGradients = true, Power = 1 });
        var agop = NeuralFeatureAnsatz.LayerAgop(network, x, 1, centre: true);
        (measured.Agop - agop).InfinityNorm().Should().BeLessThan(1e-14);
        (measured.AgopPower - agop).InfinityNorm().Should().BeLessThan(1e-12 * agop.InfinityNorm());
        measured.Correlation.Should().BeApproximately(NeuralFeatureAnsatz.PearsonCorrelation(NeuralFeatureAnsatz.NeuralFeatureMatrix(network, 1), agop), 1e-10);
        measured.Layer.Should().Be(1);

        var badOptions = () => NeuralFeatureAnsatz.Measure(network, x, 1, new NfaOptions { Power = -1 });
        badOptions.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Power");
        var badLayer = () => NeuralFeatureAnsatz.LayerAgop(network, x, 3);
        badLayer.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("layer");
        var badInputs = () => NeuralFeatureAnsatz.LayerAgop(network, Matrix<double>.Build.Dense(2, 5), 0);
        badInputs.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("inputs");
        var cancelled = () => NeuralFeatureAnsatz.LayerAgop(network, x, 0, cancellationToken: new CancellationToken(true));
        cancelled.Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public void AnRfmsFeatureMatrixIsAlignedWithTheAgopOfItsPredictor()
    {
        // y = x₀·x₁ in d = 6: after 3 rounds M and the AGOP of the final predictor both sit on the plane of x₀ and x₁.
        var x = Matrix<double>.Build.DenseOfRowMajor(300, 6, TestMatrices.Random(300, 6, 8));
        var y = Matrix<double>.Build.Dense(300, 1, (i, _) => x[i, 0] * x[i, 1]);
        var rfm = new RecursiveFeatureMachine(new RfmOptions { Kernel = new LaplaceKernel(10.0), Ridge = 1e-3, Rounds = 3 }).Fit(x, y);
        var comparison = NeuralFeatureAnsatz.CompareRfm(rfm);

        (comparison.FeatureMatrix - rfm.FeatureMatrix).InfinityNorm().Should().Be(0);
        (comparison.Agop - Agop.Compute(rfm.Predictor)).InfinityNorm().Should().BeLessThan(1e-12 * comparison.Agop.InfinityNorm());
        comparison.Correlation.Should().BeApproximately(NeuralFeatureAnsatz.Correlation(rfm.FeatureMatrix, comparison.Agop), 1e-12);
        comparison.Alignment.Should().BeApproximately(NeuralFeatureAnsatz.Alignment(rfm.FeatureMatrix, comparison.AgopPower), 1e-12);
        comparison.Correlation.Should().BeGreaterThan(0.9);
        comparison.Alignment.Should().BeGreaterThan(0.9);
    }

    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
