using FeatureLearning.Compute;
using FeatureLearning.ConvRfm;
using FeatureLearning.Kernels;
using FeatureLearning.Tests.Compute;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.ConvRfm;

public sealed class ConvRfmTests
{
    private static readonly ManagedBackend Backend = new();

    private static ImageBatch RandomImages(int n, int channels, int size, int seed) => new(n, channels, size, size, Random(1, n * channels * size * size, seed));

    [Fact]
    public void PatchesFollowTheDocumentedLayoutWithZeroAndCircularPadding()
    {
        // One 3 x 3 image 1..9.
        var image = new ImageBatch(1, 1, 3, 3, Enumerable.Range(1, 9).Select(v => (double)v).ToArray());
        var valid = image.Patches(2, 1, 0, circular: false);
        valid.Should().HaveCount(4);
        valid[0].Should().Equal(1, 2, 4, 5);
        valid[3].Should().Equal(5, 6, 8, 9);

        var zero = image.Patches(3, 1, 1, circular: false);
        zero.Should().HaveCount(9, "padding q/2 at stride 1 gives one patch per pixel");
        zero[0].Should().Equal(0, 0, 0, 0, 1, 2, 0, 4, 5);
        var circular = image.Patches(3, 1, 1, circular: true);
        circular[0].Should().Equal(9, 7, 8, 3, 1, 2, 6, 4, 5);

        var two = new ImageBatch(1, 2, 2, 2, [1, 2, 3, 4, 10, 20, 30, 40]);
        two.Patches(2, 1, 0, false).Single().Should().Equal(1, 2, 3, 4, 10, 20, 30, 40);
    }

    [Fact]
    public void AlignedPatchKernelMatchesPerPairEvaluation()
    {
        var x = RandomImages(4, 2, 5, 1);
        var z = RandomImages(3, 2, 5, 2);
        var kernel = new GaussianKernel(1.3);
        var metric = BackendConformanceTests.MakeMetric("full", 2 * 3 * 3);
        var xp = x.Patches(3, 2, 1, false);
        var zp = z.Patches(3, 2, 1, false);
        var xb = xp.Select(p => Backend.Upload<double>(p, 4, 18)).ToArray();
        var zb = zp.Select(p => Backend.Upload<double>(p, 3, 18)).ToArray();
        using var mb = metric.Upload<double>(Backend);
        using var k = Backend.Allocate<double>(4, 3);
        using var scratch = Backend.Allocate<double>(4, 3);
        ConvKernel.Average(Backend, kernel, xb, zb, mb, k, scratch);
        var expected = new double[12];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                for (int p = 0; p < xp.Length; p++)
                {
                    expected[(i * 3) + j] += kernel.Evaluate(xp[p].AsSpan(i * 18, 18), zp[p].AsSpan(j * 18, 18), metric) / xp.Length;
                }
            }
        }

        RelativeError(Download(Backend, k), expected).Should().BeLessThan(1e-10);
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("full")]
    public void PatchAgopMatchesFiniteDifferencesOverEveryPatchCopy(string metricName)
    {
        // f_k(x_i) = Σ_j α_jk (1/P) Σ_p k_M(x_{i,p}, x_{j,p}); the patch AGOP treats every patch copy x_{i,p} as a variable.
        const int n = 5, c = 2, q = 2;
        var images = RandomImages(n, 1, 4, 3);
        var patches = images.Patches(q, 1, 1, circular: true);
        int d = q * q, positions = patches.Length;
        var kernel = new GaussianKernel(0.9);
        var metric = BackendConformanceTests.MakeMetric(metricName, d);
        var alpha = Random(n, c, 4);
        var buffers = patches.Select(p => Backend.Upload<double>(p, n, d)).ToArray();
        using var ab = Backend.Upload<double>(alpha, n, c);
        using var mb = metric.Upload<double>(Backend);
        var agop = ConvolutionalRfm.PatchAgop(Backend, kernel, metric, mb, buffers, ab, CancellationToken.None);

        var expected = new double[d * d];
        const double h = 1e-6;
        for (int i = 0; i < n; i++)
        {
            for (int p = 0; p < positions; p++)
            {
                for (int k = 0; k < c; k++)
                {
                    var g = new double[d];
                    for (int l = 0; l < d; l++)
                    {
                        double F(double shift)
                        {
                            var xip = patches[p].AsSpan(i * d, d).ToArray();
                            xip[l] += shift;
                            double s = 0;
                            for (int j = 0; j < n; j++)
                            {
                                s += alpha[(j * c) + k] * kernel.Evaluate(xip, patches[p].AsSpan(j * d, d), metric) / positions;
                            }

                            return s;
                        }

                        g[l] = (F(h) - F(-h)) / (2 * h);
                    }

                    for (int a = 0; a < d; a++)
                    {
                        for (int b = 0; b < d; b++)
                        {
                            expected[(a * d) + b] += g[a] * g[b] / n;
                        }
                    }
                }
            }
        }

        RelativeError(agop, expected).Should().BeLessThan(1e-6);
    }

    [Fact]
    public void OneRoundIsKernelRidgeWithTheAlignedPatchKernel()
    {
        var x = RandomImages(12, 1, 5, 5);
        var y = Matrix<double>.Build.DenseOfRowMajor(12, 3, Random(12, 3, 6));
        var kernel = new LaplaceKernel(1.5);
        var model = new ConvolutionalRfm(new ConvRfmOptions { Kernel = kernel, Iterations = 1, Ridge = 0.1, Backend = Backend }).Fit(x, y);
        var patches = x.Patches(3, 1, 1, false);
        var k = Matrix<double>.Build.Dense(12, 12, (i, j) => patches.Average(p => kernel.Evaluate(p.AsSpan(i * 9, 9), p.AsSpan(j * 9, 9), Metric.Identity)));
        var alpha = (k + (0.1 * Matrix<double>.Build.DenseIdentity(12))).Solve(y);
        RelativeError(model.Predict(x).ToRowMajorArray(), (k * alpha).ToRowMajorArray()).Should().BeLessThan(1e-9);
        model.FeatureMatrix.Should().Be(Matrix<double>.Build.DenseIdentity(9));
    }

    [Fact]
    public void LaterRoundsLearnAPatchMetricAndReportHistory()
    {
        var x = RandomImages(30, 1, 6, 7);
        var y = Matrix<double>.Build.Dense(30, 1, (i, _) => x[i, 0, 2, 2] - x[i, 0, 3, 3]);
        var model = new ConvolutionalRfm(new ConvRfmOptions { Iterations = 3, Backend = Backend }).Fit(x, y, (x, y));
        model.History.Should().HaveCount(3);
        model.History.Should().OnlyContain(h => double.IsFinite(h.ValidationMse));
        model.FeatureMatrix.Should().NotBe(Matrix<double>.Build.DenseIdentity(9));
        model.FeatureMatrix.Enumerate().Max(Math.Abs).Should().BeApproximately(1.0, 1e-12, "normalised by the largest entry");
        ((Action)(() => new ConvolutionalRfm(new ConvRfmOptions { PatchSize = 0 }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("PatchSize");
    }
}
