using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// The CPU kernel matrix evaluates the Gaussian kernel on binary sparse centres as products of exponentials
/// (<c>CpuBackend.GaussianFactors</c>). Checked against the exponential of each entry (the same backend with the products
/// switched off) and against the kernel's definition per pair: K and W = c·K, symmetric (mirrored over several row
/// blocks) and rectangular, one-hot pairs and rows of 0 to 4 ones (empty rows included) against each other, the
/// tile-by-tile product K(X, Z)·α, one thread and several, both precisions; the gathered and scalar products bit for bit;
/// and where the products must not be taken (exponents past the range, values other than 1, other kernels), the same bits
/// as the exponentials.
/// </summary>
public sealed class GaussianProductsTests
{
    [Theory]
    [InlineData("onehot", "onehot", "full", 1)]
    [InlineData("onehot", "onehot", "full", 0)]
    [InlineData("binary", "onehot", "diagonal", 0)]
    [InlineData("binary", "binary", "full", 0)]
    [InlineData("onehot", "binary", "identity", 1)]
    public void ProductsMatchTheExponentials(string rowsKind, string centresKind, string metricName, int threads)
    {
        using var backend = new ManagedBackend(threads);
        Compare<double>(backend, rowsKind, centresKind, metricName, 1e-13);
        Compare<float>(backend, rowsKind, centresKind, metricName, 2e-5);
    }

    [Fact]
    public void GatheredAndScalarProductsGiveTheSameBits()
    {
        using var backend = new ManagedBackend(0);
        SameBitsWithAndWithoutGathers<double>(backend);
        SameBitsWithAndWithoutGathers<float>(backend);
    }

    [Fact]
    public void ExponentsPastTheRangeTakeTheExponentials()
    {
        // L = 0.05: c = −200, so e^(c‖x‖²) with ‖x‖² ≈ 2 is e^(−400) and the sum of exponents passes 600 (75 in single).
        using var backend = new ManagedBackend(0);
        var x = OneHotPairs(300, 40, 3);
        var (products, used) = Evaluate<double>(backend, new GaussianKernel(0.05), x, 300, x, 300, 40, Metric.Identity, products: true, weights: true);
        used.Should().BeFalse("the exponents' magnitudes sum past the limit");
        var (exponentials, _) = Evaluate<double>(backend, new GaussianKernel(0.05), x, 300, x, 300, 40, Metric.Identity, products: false, weights: true);
        products.K.Should().Equal(exponentials.K);
        products.K.Should().OnlyContain(v => double.IsFinite(v), "underflow gives zeros, never NaN");

        // L = 0.2 (c = −12.5; the exponents' magnitudes sum to 25 + 25 + 2·25 = 100): taken in double, not in single (past 75).
        var (_, usedDouble) = Evaluate<double>(backend, new GaussianKernel(0.2), x, 300, x, 300, 40, Metric.Identity, products: true, weights: false);
        var (_, usedSingle) = Evaluate<float>(backend, new GaussianKernel(0.2), x, 300, x, 300, 40, Metric.Identity, products: true, weights: false);
        usedDouble.Should().BeTrue();
        usedSingle.Should().BeFalse();
    }

    [Fact]
    public void OtherValuesAndKernelsTakeTheExponentials()
    {
        using var backend = new ManagedBackend(0);
        const int n = 200, d = 40;
        var x = OneHotPairs(n, d, 5);
        var halves = x.Select(v => v / 2).ToArray();
        var (a, usedHalves) = Evaluate<double>(backend, new GaussianKernel(2.5), halves, n, halves, n, d, Metric.Identity, products: true, weights: true);
        var (b, _) = Evaluate<double>(backend, new GaussianKernel(2.5), halves, n, halves, n, d, Metric.Identity, products: false, weights: true);
        usedHalves.Should().BeFalse("values of ½ are not binary");
        a.K.Should().Equal(b.K);

        var (_, usedLaplace) = Evaluate<double>(backend, new LaplaceKernel(2.5), x, n, x, n, d, Metric.Identity, products: true, weights: true);
        usedLaplace.Should().BeFalse("the Laplace kernel is not an exponential of the squared distance");
    }

    private static void Compare<T>(ManagedBackend backend, string rowsKind, string centresKind, string metricName, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int d = 40, c = 3;
        int n = 300, m = centresKind == rowsKind ? 300 : 530;
        bool same = rowsKind == centresKind;
        var kernel = new GaussianKernel(2.5);
        var metric = BackendConformanceTests.MakeMetric(metricName, d);
        var x = Make(rowsKind, n, d, 21);
        var z = same ? x : Make(centresKind, m, d, 22);
        string what = $"{typeof(T).Name}, rows {rowsKind}, centres {centresKind}, {metricName} metric, {backend.Threads} threads";

        var (p, used) = Evaluate<T>(backend, kernel, x, n, z, m, d, metric, products: true, weights: true, same);
        used.Should().BeTrue(what);
        var (e, usedExp) = Evaluate<T>(backend, kernel, x, n, z, m, d, metric, products: false, weights: true, same);
        usedExp.Should().BeFalse(what);

        double cScale = -1.0 / (2 * 2.5 * 2.5);
        var full = metric.ToMatrix(d);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                long at = ((long)i * m) + j;
                double kp = double.CreateTruncating(p.K[at]), ke = double.CreateTruncating(e.K[at]);
                Math.Abs(kp - ke).Should().BeLessThanOrEqualTo(tolerance * ke, $"K[{i}, {j}], {what}");
                Math.Abs(double.CreateTruncating(p.W![at]) - (cScale * kp)).Should().BeLessThanOrEqualTo(tolerance * Math.Abs(cScale * kp), $"W[{i}, {j}], {what}");
                if (((i * 7) + j) % 13 == 0 || (i == j && same))
                {
                    double s = 0;
                    for (int a = 0; a < d; a++)
                    {
                        for (int b = 0; b < d; b++)
                        {
                            s += (x[(i * d) + a] - z[(j * d) + a]) * full[a, b] * (x[(i * d) + b] - z[(j * d) + b]);
                        }
                    }

                    Math.Abs(kp - Math.Exp(cScale * s)).Should().BeLessThanOrEqualTo(tolerance * Math.Exp(cScale * s), $"K[{i}, {j}] by its definition, {what}");
                }
            }
        }

        // K(X, Z)·α tile by tile (no K formed): against the product from the exponentials, to the rounding of Σ|K||α|.
        var alpha = Random(m, c, 23);
        var fp = Product<T>(backend, kernel, x, n, z, m, d, metric, alpha, c, products: true);
        CpuBackend.LastKernelUsedGaussianProducts.Should().BeTrue(what + ", product");
        var fe = Product<T>(backend, kernel, x, n, z, m, d, metric, alpha, c, products: false);
        double bound = tolerance * m * alpha.Max(Math.Abs);
        for (int t = 0; t < fp.Length; t++)
        {
            Math.Abs(double.CreateTruncating(fp[t]) - double.CreateTruncating(fe[t])).Should().BeLessThanOrEqualTo(bound, $"F[{t}], {what}");
        }
    }

    private static unsafe void SameBitsWithAndWithoutGathers<T>(ManagedBackend backend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 150, m = 203, d = 40;
        var x = OneHotPairs(n, d, 31);
        var z = OneHotPairs(m, d, 32);
        var metric = BackendConformanceTests.MakeMetric("full", d);
        var results = new List<T[]>();
        bool saved = SparseRows<T>.Gathers;
        try
        {
            foreach (bool gathers in new[] { true, false })
            {
                SparseRows<T>.Gathers = gathers;
                var (r, used) = Evaluate<T>(backend, new GaussianKernel(2.5), x, n, z, m, d, metric, products: true, weights: false);
                used.Should().BeTrue();
                results.Add(r.K);
            }
        }
        finally
        {
            SparseRows<T>.Gathers = saved;
        }

        results[0].Should().Equal(results[1], $"{typeof(T).Name}: gathered and scalar products");
    }

    private static ((T[] K, T[]? W), bool Used) Evaluate<T>(
        ManagedBackend backend, IKernelFunction kernel, double[] x, int n, double[] z, int m, int d, Metric metric, bool products, bool weights, bool same = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var xb = backend.Upload<T>(Cast<T>(x), n, d);
        using var zb = same ? null : backend.Upload<T>(Cast<T>(z), m, d);
        using var mb = metric.Upload<T>(backend);
        using var kb = backend.Allocate<T>(n, m);
        using var wb = weights ? backend.Allocate<T>(n, m) : null;
        CpuBackend.GaussianProductsOnThisThread = products;
        try
        {
            backend.KernelMatrix(kernel, xb, zb ?? xb, mb, kb, wb);
            bool used = CpuBackend.LastKernelUsedGaussianProducts;
            var k = new T[n * m];
            backend.Download(kb, k);
            T[]? w = null;
            if (wb is not null)
            {
                w = new T[n * m];
                backend.Download(wb, w);
            }

            return ((k, w), used);
        }
        finally
        {
            CpuBackend.GaussianProductsOnThisThread = null;
        }
    }

    private static T[] Product<T>(ManagedBackend backend, IKernelFunction kernel, double[] x, int n, double[] z, int m, int d, Metric metric, double[] alpha, int c, bool products)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var xb = backend.Upload<T>(Cast<T>(x), n, d);
        using var zb = backend.Upload<T>(Cast<T>(z), m, d);
        using var mb = metric.Upload<T>(backend);
        using var ab = backend.Upload<T>(Cast<T>(alpha), m, c);
        using var fb = backend.Allocate<T>(n, c);
        CpuBackend.GaussianProductsOnThisThread = products;
        try
        {
            backend.KernelProduct(kernel, xb, zb, mb, ab, fb);
            var f = new T[n * c];
            backend.Download(fb, f);
            return f;
        }
        finally
        {
            CpuBackend.GaussianProductsOnThisThread = null;
        }
    }

    private static double[] Make(string kind, int rows, int d, int seed) => kind switch
    {
        "onehot" => OneHotPairs(rows, d, seed),
        "binary" => BinaryRows(rows, d, seed),
        _ => Random(rows, d, seed),
    };

    private static double[] OneHotPairs(int rows, int d, int seed) => KernelProductCheck.OneHotPairs(rows, d, seed);

    /// <summary>Rows of 0 to 4 ones in distinct random columns (every fifth row empty).</summary>
    private static double[] BinaryRows(int rows, int d, int seed)
    {
        var rnd = new Random(seed);
        var data = new double[rows * d];
        for (int i = 0; i < rows; i++)
        {
            int ones = i % 5;
            foreach (int col in Enumerable.Range(0, d).OrderBy(_ => rnd.Next()).Take(ones))
            {
                data[(i * d) + col] = 1;
            }
        }

        return data;
    }
}
