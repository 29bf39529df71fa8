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
/// tile-by-tile product K(X, Z)·α, one thread and several, both precisions, K(X, X) exactly symmetric; the gathered and
/// scalar products bit for bit; the range guard just inside and just outside its limits; an indefinite metric (no entry
/// above 1); sparse rows that are not binary; and where the products must not be taken (exponents past the range, values
/// other than 1, other kernels), the same bits as the exponentials.
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

    [SkippableFact]
    public void GatheredAndScalarProductsGiveTheSameBits()
    {
        Skip.IfNot(System.Runtime.Intrinsics.X86.Avx2.IsSupported && FeatureLearning.Compute.Managed.SimdSetting.Use256, "the gathers need AVX2");
        GatheredAgainstScalar<double>();
        GatheredAgainstScalar<float>();
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
        var (singleProducts, usedSingle) = Evaluate<float>(backend, new GaussianKernel(0.2), x, 300, x, 300, 40, Metric.Identity, products: true, weights: false);
        var (singleExponentials, _) = Evaluate<float>(backend, new GaussianKernel(0.2), x, 300, x, 300, 40, Metric.Identity, products: false, weights: false);
        usedDouble.Should().BeTrue();
        usedSingle.Should().BeFalse();
        singleProducts.K.Should().Equal(singleExponentials.K);
    }

    /// <summary>
    /// The guard's limits: one-hot pairs with the identity metric put the exponents' magnitudes at 8|c| (‖x‖² = ‖z‖² = 2, two
    /// factors of 2|c| each), so L sets the sum: just inside the limit (590 in double, 74 in single) the products are taken
    /// and agree with the exponentials, just outside (610, 76) they are not.
    /// </summary>
    [Theory]
    [InlineData(590.0, true, false)]
    [InlineData(610.0, false, false)]
    [InlineData(74.0, true, true)]
    [InlineData(76.0, false, true)]
    public void TheRangeGuardSitsAtItsLimits(double exponentSum, bool taken, bool single)
    {
        using var backend = new ManagedBackend(0);
        var kernel = new GaussianKernel(Math.Sqrt(8.0 / (2.0 * exponentSum)));
        var x = OneHotPairs(200, 40, 7);
        if (single)
        {
            Guard<float>(backend, kernel, x, taken, 2e-5);
        }
        else
        {
            Guard<double>(backend, kernel, x, taken, 1e-13);
        }
    }

    /// <summary>
    /// A metric that is not positive semi-definite (a diagonal with −0.3 in every seventh entry, uploaded as a raw buffer):
    /// squared distances come out negative, which the exponential path cuts to 0 (k = 1); the products are capped at 1 the
    /// same way, never above it.
    /// </summary>
    [Fact]
    public void AnIndefiniteMetricGivesNoEntryAboveOne()
    {
        using var backend = new ManagedBackend(0);
        const int n = 300, d = 40;
        var x = OneHotPairs(n, d, 9);
        var diagonal = Enumerable.Range(0, d).Select(i => i % 7 == 0 ? -0.3 : 1.0).ToArray();
        var results = new List<double[]>();
        foreach (bool products in new[] { true, false })
        {
            using var xb = backend.Upload<double>(x, n, d);
            using var mb = backend.Upload<double>(diagonal, 1, d);
            using var kb = backend.Allocate<double>(n, n);
            CpuBackend.GaussianProductsOnThisThread = products;
            try
            {
                backend.KernelMatrix(new GaussianKernel(2.5), xb, xb, mb, kb);
                CpuBackend.LastKernelUsedGaussianProducts.Should().Be(products);
            }
            finally
            {
                CpuBackend.GaussianProductsOnThisThread = null;
            }

            var k = new double[n * n];
            backend.Download(kb, k);
            results.Add(k);
        }

        results[0].Max().Should().BeLessThanOrEqualTo(1.0);
        results[1].Max().Should().Be(1.0, "the exponentials cut negative squared distances to 0");
        for (int t = 0; t < n * n; t++)
        {
            Math.Abs(results[0][t] - results[1][t]).Should().BeLessThanOrEqualTo(1e-13 * results[1][t], $"entry {t}");
        }
    }

    /// <summary>
    /// Rows X that are sparse but not binary (values ±2) against centres with three ones per row (d = 64, within the
    /// detection's limit of d/16 non-zeros), a full metric with entries of both signs: only the centres need values of 1.
    /// </summary>
    [Fact]
    public void NonBinaryRowsAgainstThreeOnesPerCentre()
    {
        using var backend = new ManagedBackend(0);
        const int n = 260, m = 270, d = 64;
        var rnd = new Random(13);
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            x[(i * d) + rnd.Next(32)] = rnd.Next(2) == 0 ? 2 : -2;
            x[(i * d) + 32 + rnd.Next(32)] = rnd.Next(2) == 0 ? 2 : -2;
        }

        var z = new double[m * d];
        for (int j = 0; j < m; j++)
        {
            for (int k = 0; k < 3; k++)
            {
                z[(j * d) + (k * 21) + rnd.Next(21)] = 1;
            }
        }

        var metric = BackendConformanceTests.MakeMetric("full", d);
        var (p, used) = Evaluate<double>(backend, new GaussianKernel(4.0), x, n, z, m, d, metric, products: true, weights: true);
        used.Should().BeTrue();
        var (e, _) = Evaluate<double>(backend, new GaussianKernel(4.0), x, n, z, m, d, metric, products: false, weights: true);
        for (int t = 0; t < p.K.Length; t++)
        {
            Math.Abs(p.K[t] - e.K[t]).Should().BeLessThanOrEqualTo(1e-13 * e.K[t], $"K entry {t}");
            Math.Abs(p.W![t] - e.W![t]).Should().BeLessThanOrEqualTo(1e-13 * Math.Abs(e.W[t]), $"W entry {t}");
        }
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

        var (c, usedLaplace) = Evaluate<double>(backend, new LaplaceKernel(2.5), x, n, x, n, d, Metric.Identity, products: true, weights: true);
        var (dd, _) = Evaluate<double>(backend, new LaplaceKernel(2.5), x, n, x, n, d, Metric.Identity, products: false, weights: true);
        usedLaplace.Should().BeFalse("the Laplace kernel is not an exponential of the squared distance");
        c.K.Should().Equal(dd.K);
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

        if (same)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    p.K[((long)i * n) + j].Should().Be(p.K[((long)j * n) + i], $"K(X, X) is exactly symmetric, [{i}, {j}], {what}");
                }
            }
        }

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

    /// <summary>
    /// <see cref="SparseRows{T}.MultiplyTileExponential"/> called directly with the gathers on and off (an argument, so no other
    /// test's switch can interfere), on a tile that starts past the first row and column and leaves a gather tail, with
    /// factors that put some products above 1 (capped): the same bits.
    /// </summary>
    private static unsafe void GatheredAgainstScalar<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 9, m = 83, d = 40, i0 = 2, rows = 5, j0 = 3, cols = 71;
        var rng = new Random(41);
        var pattern = SparseRows<T>.Detect(Cast<T>(OneHotPairs(m, d, 42)), m, d)!;
        pattern.PerRow.Should().Be(2);
        var e = Enumerable.Range(0, n * d).Select(_ => T.CreateTruncating(0.5 + rng.NextDouble())).ToArray();
        var x = Enumerable.Range(0, n).Select(_ => T.CreateTruncating(0.2 + rng.NextDouble())).ToArray();
        var z = Enumerable.Range(0, m).Select(_ => T.CreateTruncating(0.2 + rng.NextDouble())).ToArray();
        var gathered = new T[n * m];
        var scalar = new T[n * m];
        fixed (T* ep = e, xp = x, zp = z, gp = gathered, sp = scalar)
        {
            pattern.MultiplyTileExponential(ep, d, i0, rows, j0, cols, gp, m, xp, zp, gathers: true);
            pattern.MultiplyTileExponential(ep, d, i0, rows, j0, cols, sp, m, xp, zp, gathers: false);
        }

        gathered.Should().Equal(scalar, $"{typeof(T).Name}: gathered and scalar products");
        gathered.Should().Contain(T.One, "some products pass 1 and are capped");
        gathered.Count(v => v != T.Zero).Should().Be(rows * cols, "only the tile is written");
    }

    private static void Guard<T>(ManagedBackend backend, GaussianKernel kernel, double[] x, bool taken, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length / 40;
        var (p, used) = Evaluate<T>(backend, kernel, x, n, x, n, 40, Metric.Identity, products: true, weights: false);
        used.Should().Be(taken, $"{typeof(T).Name}, L = {kernel.Bandwidth}");
        var (e, _) = Evaluate<T>(backend, kernel, x, n, x, n, 40, Metric.Identity, products: false, weights: false);
        for (int t = 0; t < p.K.Length; t++)
        {
            double a = double.CreateTruncating(p.K[t]), b = double.CreateTruncating(e.K[t]);
            T.IsFinite(p.K[t]).Should().BeTrue();
            if (!taken)
            {
                p.K[t].Should().Be(e.K[t], "the exponentials, bit for bit");
            }
            else
            {
                Math.Abs(a - b).Should().BeLessThanOrEqualTo(tolerance * b, $"entry {t}");
            }
        }
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
