using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using FeatureLearning.Rfm;
using FeatureLearning.Tests.Compute;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Ntk;

/// <summary>The analytic NTK and NNGP as kernels of the estimators: kernel matrix, AGOP, kernel ridge, RFM, model files.</summary>
public sealed class NeuralKernelTests
{
    private static readonly ManagedBackend Backend = new();

    private static readonly NeuralKernel[] Cases =
    [
        NeuralKernel.Ntk(new InfiniteWidthKernel(Activation.Relu, 2, Math.Sqrt(2), 0.3), 4),
        NeuralKernel.Nngp(new InfiniteWidthKernel(Activation.Relu, 1, 1.0, 0.0), 4),
        NeuralKernel.Ntk(new InfiniteWidthKernel(Activation.Erf, 3, 1.5, 0.2), 4),
        NeuralKernel.Ntk(new InfiniteWidthKernel(Activation.LeakyRelu(0.2), 1, 1.2, 0.5), 4),
        NeuralKernel.Nngp(new InfiniteWidthKernel(Activation.Tanh, 1, 1.0, 0.1) { QuadratureOrder = 24 }, 4),
    ];

    public static TheoryData<int> Kernels() => new(Enumerable.Range(0, Cases.Length));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void KernelMatrixIsTheNetworkKernelOfEveryPair(int index)
    {
        var kernel = Cases[index];
        const int n = 9, m = 7, d = 4;
        var x = Random(n, d, 1);
        var z = Random(m, d, 2);
        using var xb = Backend.Upload<double>(x, n, d);
        using var zb = Backend.Upload<double>(z, m, d);
        using var k = Backend.Allocate<double>(n, m);
        Backend.KernelMatrix(kernel, xb, zb, null, k);
        var actual = Download(Backend, k);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                var value = kernel.Network.Evaluate(Vector<double>.Build.DenseOfArray(x[(i * d)..((i + 1) * d)]), Vector<double>.Build.DenseOfArray(z[(j * d)..((j + 1) * d)]));
                double expected = kernel.Kind == NeuralKernelKind.Ntk ? value.Ntk : value.Nngp;
                actual[(i * m) + j].Should().BeApproximately(expected, 1e-12 * Math.Abs(expected));
            }
        }
    }

    [Fact]
    public void ReluNtkOfDepthOneHasTheHandValues()
    {
        // ReLU, depth 1, σ_w = 1, σ_b = 0, xᵀx/d = 1: (NNGP, NTK) = (1/2, 1) at ρ = 1 and (1/2π, 1/2π) at ρ = 0.
        var network = new InfiniteWidthKernel(Activation.Relu, 1);
        var ntk = NeuralKernel.Ntk(network, 2);
        var nngp = NeuralKernel.Nngp(network, 2);
        double[] x = [1, 1], z = [1, -1];
        ntk.Evaluate(x, x, Metric.Identity).Should().BeApproximately(1.0, 1e-14);
        nngp.Evaluate(x, x, Metric.Identity).Should().BeApproximately(0.5, 1e-14);
        ntk.Evaluate(x, z, Metric.Identity).Should().BeApproximately(1 / (2 * Math.PI), 1e-14);
        nngp.Evaluate(x, z, Metric.Identity).Should().BeApproximately(1 / (2 * Math.PI), 1e-14);
    }

    [Theory]
    [InlineData(0, AgopForm.Direct, "full")]
    [InlineData(0, AgopForm.Gram, "diagonal")]
    [InlineData(2, AgopForm.Direct, "identity")]
    [InlineData(3, AgopForm.Direct, "full")]
    public void AgopWithAMetricMatchesFiniteDifferencesOfThePredictor(int kernelIndex, AgopForm form, string metricName)
    {
        const int d = 4;
        var kernel = Cases[kernelIndex];
        var metric = BackendConformanceTests.MakeMetric(metricName, d);
        var x = Matrix<double>.Build.DenseOfRowMajor(20, d, Random(20, d, 5));
        var y = Matrix<double>.Build.DenseOfRowMajor(20, 2, Random(20, 2, 6));
        var model = new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Metric = metric, Ridge = 0.1, Backend = Backend }).Fit(x, y);
        var points = Matrix<double>.Build.DenseOfRowMajor(6, d, Random(6, d, 7));

        // Central differences of the predictor, one coordinate at a time.
        const double h = 1e-5;
        var expected = Matrix<double>.Build.Dense(d, d);
        for (int j = 0; j < points.RowCount; j++)
        {
            var gradients = Matrix<double>.Build.Dense(2, d);
            for (int l = 0; l < d; l++)
            {
                var pair = Matrix<double>.Build.DenseOfRowVectors(points.Row(j), points.Row(j));
                pair[0, l] += h;
                pair[1, l] -= h;
                var f = model.Predict(pair);
                gradients.SetColumn(l, (f.Row(0) - f.Row(1)) / (2 * h));
            }

            expected += gradients.TransposeThisAndMultiply(gradients) / points.RowCount;
        }

        var agop = Agop.Compute(model, points, centre: false, form: form, backend: Backend);
        RelativeError(agop.ToRowMajorArray(), expected.ToRowMajorArray()).Should().BeLessThan(1e-6);
    }

    [Fact]
    public void KernelRidgeModelWithTheNtkSavesAndLoads()
    {
        var kernel = Cases[2];
        var x = Matrix<double>.Build.DenseOfRowMajor(15, 4, Random(15, 4, 8));
        var y = Matrix<double>.Build.DenseOfRowMajor(15, 1, Random(15, 1, 9));
        var model = new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Ridge = 0.01, Backend = Backend }).Fit(x, y);
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = KernelRidgeModel<double>.Load(stream, Backend);
        loaded.Kernel.Should().Be(kernel);
        var xt = Matrix<double>.Build.DenseOfRowMajor(5, 4, Random(5, 4, 10));
        (loaded.Predict(xt) - model.Predict(xt)).FrobeniusNorm().Should().Be(0);
    }

    [Fact]
    public void RfmWithTheNtkFindsThePlantedCoordinates()
    {
        // y = x₀x₁ + x₀ on 10 standard normal coordinates: the learned metric must put its mass on the first two.
        var normal = new Normal(0, 1, new System.Random(3));
        var x = Matrix<double>.Build.Random(300, 10, normal);
        var y = Matrix<double>.Build.Dense(300, 1, (i, _) => (x[i, 0] * x[i, 1]) + x[i, 0]);
        var kernel = NeuralKernel.Ntk(new InfiniteWidthKernel(Activation.Relu, 1, Math.Sqrt(2), 0.5), 10);
        var rfm = new RecursiveFeatureMachine(new RfmOptions { Kernel = kernel, Ridge = 1e-3, Rounds = 4, Backend = Backend }).Fit(x, y);
        var diag = rfm.FeatureMatrix.Diagonal();
        (diag[0] + diag[1]).Should().BeGreaterThan(0.8 * diag.Sum(), $"diag(M) = {diag}");
    }

    [Fact]
    public void BadParametersAreRefusedByName()
    {
        var network = new InfiniteWidthKernel(Activation.Relu, 1);
        var act = () => new NeuralKernel(network, 0).Validate();
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("InputDimension");
        var bad = () => new NeuralKernel(network with { Depth = -1 }, 3).Validate();
        bad.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Depth");
    }
}
