using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Tests.Compute;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.KernelMachines;

public sealed class KernelRidgeTests
{
    private static readonly ManagedBackend Backend = new();

    private static Matrix<double> RandomMatrix(int rows, int cols, int seed) => Matrix<double>.Build.DenseOfRowMajor(rows, cols, Random(rows, cols, seed));

    /// <summary>(K + λI)⁻¹Y by a direct dense solve of the per-pair kernel matrix.</summary>
    private static Matrix<double> DirectCoefficients(IKernelFunction kernel, Metric metric, Matrix<double> x, Matrix<double> y, double ridge)
    {
        int n = x.RowCount;
        var k = Matrix<double>.Build.Dense(n, n, (i, j) => kernel.Evaluate(x.Row(i).ToArray(), x.Row(j).ToArray(), metric));
        return (k + (ridge * Matrix<double>.Build.DenseIdentity(n))).Solve(y);
    }

    [Theory]
    [MemberData(nameof(BackendConformanceTests.KernelCases), MemberType = typeof(BackendConformanceTests))]
    public void CoefficientsAndPredictionsMatchADirectDenseSolve(string kernelName, string metricName)
    {
        var kernel = BackendConformanceTests.MakeKernel(kernelName);
        var metric = BackendConformanceTests.MakeMetric(metricName, 4);
        var x = RandomMatrix(80, 4, 1);
        var y = RandomMatrix(80, 2, 2);
        var model = new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Metric = metric, Ridge = 0.1, Backend = Backend }).Fit(x, y);

        var expected = DirectCoefficients(kernel, metric, x, y, 0.1);
        RelativeError(model.Coefficients.ToRowMajorArray(), expected.ToRowMajorArray()).Should().BeLessThan(1e-9);

        var xNew = RandomMatrix(13, 4, 3);
        var direct = Matrix<double>.Build.Dense(13, 80, (i, j) => kernel.Evaluate(xNew.Row(i).ToArray(), x.Row(j).ToArray(), metric)) * expected;
        RelativeError(model.Predict(xNew).ToRowMajorArray(), direct.ToRowMajorArray()).Should().BeLessThan(1e-9);
        model.Jitter.Should().Be(0);
    }

    [Fact]
    public void SinglePrecisionFitAgreesWithDoublePrecision()
    {
        var x = RandomMatrix(120, 5, 4);
        var y = RandomMatrix(120, 1, 5);
        var options = new KernelRidgeOptions { Kernel = new GaussianKernel(1.0), Ridge = 0.5, Backend = Backend };
        var fitD = new KernelRidge(options).Fit(x, y).Predict(x);
        var fitS = new KernelRidge(options).Fit(x.Map(v => (float)v), y.Map(v => (float)v)).Predict(x.Map(v => (float)v));
        RelativeError(fitS.ToRowMajorArray().Select(v => (double)v).ToArray(), fitD.ToRowMajorArray()).Should().BeLessThan(1e-4);
    }

    [Fact]
    public void MultiOutputFitEqualsSeparateFits()
    {
        var x = RandomMatrix(60, 3, 6);
        var y = RandomMatrix(60, 3, 7);
        var estimator = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(1.0), Ridge = 1e-2, Backend = Backend });
        var joint = estimator.Fit(x, y).Coefficients;
        for (int c = 0; c < 3; c++)
        {
            var single = estimator.Fit(x, y.SubMatrix(0, 60, c, 1)).Coefficients;
            RelativeError(single.Column(0).ToArray(), joint.Column(c).ToArray()).Should().BeLessThan(1e-12);
        }
    }

    [Fact]
    public void DiagonalMetricEqualsRescaledInputs()
    {
        // k_{diag(m)}(x, z) = k_I(√m ∘ x, √m ∘ z): a closed-form identity between two fits.
        var x = RandomMatrix(50, 3, 8);
        var y = RandomMatrix(50, 1, 9);
        double[] m = [0.5, 2.0, 0.0];
        var scaled = x.Clone();
        for (int j = 0; j < 3; j++)
        {
            scaled.SetColumn(j, x.Column(j) * Math.Sqrt(m[j]));
        }

        var kernel = new GaussianKernel(0.8);
        var withMetric = new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Metric = Metric.Diagonal(m), Ridge = 1e-3, Backend = Backend }).Fit(x, y);
        var rescaled = new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Ridge = 1e-3, Backend = Backend }).Fit(scaled, y);
        RelativeError(withMetric.Coefficients.ToRowMajorArray(), rescaled.Coefficients.ToRowMajorArray()).Should().BeLessThan(1e-8);
    }

    [Fact]
    public void ZeroRidgeOnDuplicatedPointsUsesJitterAndStaysFinite()
    {
        var x = RandomMatrix(30, 2, 10);
        var doubled = x.Stack(x); // every point twice: K is exactly singular
        var y = RandomMatrix(30, 1, 11);
        var model = new KernelRidge(new KernelRidgeOptions { Kernel = new GaussianKernel(1.0), Ridge = 0, Backend = Backend }).Fit(doubled, y.Stack(y));
        model.Jitter.Should().BeGreaterThan(0);
        var prediction = model.Predict(x);
        prediction.Enumerate().Should().OnlyContain(v => double.IsFinite(v));
        // The reported jitter is exactly the ridge the solve used: compare with a direct solve of (K + jitter·I).
        var kernel = new GaussianKernel(1.0);
        var expected = DirectCoefficients(kernel, Metric.Identity, doubled, y.Stack(y), model.Jitter);
        var direct = Matrix<double>.Build.Dense(30, 60, (i, j) => kernel.Evaluate(x.Row(i).ToArray(), doubled.Row(j).ToArray(), Metric.Identity)) * expected;
        RelativeError(prediction.ToRowMajorArray(), direct.ToRowMajorArray()).Should().BeLessThan(1e-6);
        RelativeError(prediction.ToRowMajorArray(), y.ToRowMajorArray()).Should().BeLessThan(1e-2, "interpolation with a small jitter nearly reproduces the targets");
    }

    [Fact]
    public void ClassifiesHandwrittenDigits()
    {
        var data = LabeledDataSet.LoadCsv(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"));
        data.Count.Should().Be(1797);
        var (train, test) = data.Subset(Enumerable.Range(0, 900).ToArray()).Split(0.67, seed: 1);
        var model = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(10.0), Ridge = 1e-3, Backend = Backend })
            .Fit(train.Features / 16.0, OneHot.Encode(train.Labels, 10));
        double accuracy = OneHot.Accuracy(model.PredictClass(test.Features / 16.0), test.Labels);
        accuracy.Should().BeGreaterThan(0.95);
    }

    [Fact]
    public void SaveAndLoadRoundTrip()
    {
        var x = RandomMatrix(40, 3, 12);
        var y = RandomMatrix(40, 2, 13);
        var metric = BackendConformanceTests.MakeMetric("full", 3);
        foreach (var kernel in new IKernelFunction[] { new LaplaceKernel(2), new GaussianKernel(1), new GeneralizedLaplaceKernel(1.5, 0.7), new PolynomialKernel(2, 1) })
        {
            var model = new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Metric = metric, Ridge = 0.05, Backend = Backend }).Fit(x, y);
            using var stream = new MemoryStream();
            model.Save(stream);
            stream.Position = 0;
            var loaded = KernelRidgeModel<double>.Load(stream, Backend);
            loaded.Kernel.Should().Be(kernel);
            loaded.Ridge.Should().Be(0.05);
            loaded.Metric.ToArray().Should().Equal(metric.ToArray());
            loaded.Coefficients.Should().Be(model.Coefficients);
            loaded.Predict(x).Should().Be(model.Predict(x));
        }
    }

    [Fact]
    public void LoadRejectsOtherFilesAndPrecisions()
    {
        var model = new KernelRidge(new KernelRidgeOptions { Backend = Backend }).Fit(RandomMatrix(5, 2, 14), RandomMatrix(5, 1, 15));
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        ((Action)(() => KernelRidgeModel<float>.Load(stream))).Should().Throw<InvalidDataException>().WithMessage("*double precision*");
        using var garbage = new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        ((Action)(() => KernelRidgeModel<double>.Load(garbage))).Should().Throw<InvalidDataException>().WithMessage("*magic*");
    }

    [Fact]
    public void BadInputRaisesArgumentExceptionsNamingTheArgument()
    {
        var estimator = new KernelRidge(new KernelRidgeOptions { Backend = Backend });
        var x = RandomMatrix(10, 3, 16);
        var y = RandomMatrix(10, 1, 17);
        var nan = x.Clone();
        nan[2, 1] = double.NaN;
        var inf = y.Clone();
        inf[0, 0] = double.PositiveInfinity;

        ((Action)(() => estimator.Fit(nan, y))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("x");
        ((Action)(() => estimator.Fit(x, inf))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("y");
        ((Action)(() => estimator.Fit(x, RandomMatrix(9, 1, 18)))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("y");
        ((Action)(() => estimator.Fit(Matrix<double>.Build.Dense(0, 3), Matrix<double>.Build.Dense(0, 1)))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("x");
        ((Action)(() => new KernelRidge(new KernelRidgeOptions { Ridge = -1 }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Ridge");
        ((Action)(() => new KernelRidge(new KernelRidgeOptions { Ridge = double.NaN }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Ridge");
        ((Action)(() => new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(0) }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Bandwidth");
        var wrongMetric = new KernelRidge(new KernelRidgeOptions { Metric = Metric.Diagonal([1.0, 1.0]), Backend = Backend });
        ((Action)(() => wrongMetric.Fit(x, y))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("x");

        var model = estimator.Fit(x, y);
        ((Action)(() => model.Predict(RandomMatrix(4, 2, 19)))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("x");
    }

    [Fact]
    public void FitHonoursCancellation()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var estimator = new KernelRidge(new KernelRidgeOptions { Backend = Backend });
        ((Action)(() => estimator.Fit(RandomMatrix(10, 2, 20), RandomMatrix(10, 1, 21), cts.Token))).Should().Throw<OperationCanceledException>();
    }
}
