using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// The tiled kernel matrix of the CPU backends on sizes that span several row blocks (128 rows) and column tiles (256
/// columns in double, 512 in single), where K(X, X) is computed on and left of the diagonal blocks and mirrored: every
/// element, K and W, against the scalar <see cref="IKernelFunction.Value"/> and <see cref="IKernelFunction.Derivative"/>
/// of the pair, with repeated rows so that s = 0 occurs off the diagonal and in mirrored tiles. (The conformance suite's
/// matrices fit in one tile.)
/// </summary>
public sealed class CpuKernelTileTests
{
    public static TheoryData<string, string, int> Cases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (string kernel in new[] { "laplace", "gaussian", "genlaplace", "polynomial", "normgaussian" })
        {
            foreach (string metric in new[] { "identity", "diagonal", "full" })
            {
                foreach (int threads in new[] { 0, 1 })
                {
                    data.Add(kernel, metric, threads);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SymmetricKernelMatrixOverSeveralTilesMatchesThePairs(string kernelName, string metricName, int threads)
    {
        using var backend = new ManagedBackend(threads);
        Check<double>(backend, kernelName, metricName, same: true);
        Check<float>(backend, kernelName, metricName, same: true);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RectangularKernelMatrixOverSeveralTilesMatchesThePairs(string kernelName, string metricName, int threads)
    {
        using var backend = new ManagedBackend(threads);
        Check<double>(backend, kernelName, metricName, same: false);
        Check<float>(backend, kernelName, metricName, same: false);
    }

    /// <summary>
    /// The library's radial kernels are evaluated straight from the inner products in one pass
    /// (<see cref="CpuBackend.FusedProfiles"/>): the same bits as the squared distances stored first and the kernel's span
    /// methods run over them, for K alone and K with W, symmetric and rectangular, rows of 300 and 701 columns (whole vectors
    /// and a scalar tail), dense inputs and one-hot pairs (the sparse inner products), the tile-by-tile product K(X, Z)·α, repeated points (s = 0) and near-duplicates (s at the rounding level, clamped to 0), both precisions,
    /// one thread and several, the kernel passed as the interface and as its struct type.
    /// </summary>
    [Theory]
    [InlineData("gaussian", "full", "dense")]
    [InlineData("laplace", "identity", "dense")]
    [InlineData("laplace", "diagonal", "dense")]
    [InlineData("genlaplace", "identity", "dense")]
    [InlineData("gaussian", "full", "onehot")]
    [InlineData("laplace", "diagonal", "onehot")]
    public void FusedRadialProfilesGiveTheSameBitsAsTheTwoPasses(string kernelName, string metricName, string inputs)
    {
        foreach (int threads in new[] { 1, 0 })
        {
            using var backend = new ManagedBackend(threads);
            SameBits<double>(backend, kernelName, metricName, inputs);
            SameBits<float>(backend, kernelName, metricName, inputs);
        }
    }

    private static void SameBits<T>(ManagedBackend backend, string kernelName, string metricName, string inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 300, m = 701, c = 5;
        bool oneHot = inputs == "onehot";
        int d = oneHot ? 12 : 6;
        var kernel = BackendConformanceTests.MakeKernel(kernelName);
        var metric = BackendConformanceTests.MakeMetric(metricName, d);
        var x = Cast<T>(oneHot ? KernelProductCheck.OneHotPairs(n, d, 51) : Random(n, d, 51));
        var z = Cast<T>(oneHot ? KernelProductCheck.OneHotPairs(m, d, 52) : Random(m, d, 52));
        x.AsSpan(3 * d, d).CopyTo(x.AsSpan(40 * d, d));
        z.AsSpan(650 * d, d).CopyTo(x.AsSpan(7 * d, d));

        // Near-duplicates of dense rows: squared distances at the rounding level, which the clamp sets to exactly 0.
        // (One-hot rows repeat exactly, which the pairs above and the pattern itself provide.)
        T nudge = T.CreateTruncating(typeof(T) == typeof(float) ? 1e-4 : 1e-9);
        for (int r = 0; r < 12 && !oneHot; r++)
        {
            x.AsSpan((100 + r) * d, d).CopyTo(x.AsSpan((200 + r) * d, d));
            x[((200 + r) * d) + (r % d)] += nudge;
            z.AsSpan((500 + r) * d, d).CopyTo(x.AsSpan((250 + r) * d, d));
            x[((250 + r) * d) + (r % d)] += nudge;
        }

        // The tile-by-tile product K(X, Z)·α (the RFM's validation) goes through the same tiles.
        var alpha = Cast<T>(Random(m, c, 53));
        using var ab = backend.Upload<T>(alpha, m, c);
        var products = new List<T[]>();
        bool kept = CpuBackend.FusedProfiles;
        try
        {
            foreach (bool fused in new[] { false, true })
            {
                CpuBackend.FusedProfiles = fused;
                using var xp = backend.Upload<T>(x, n, d);
                using var zp = backend.Upload<T>(z, m, d);
                using var mp = metric.Upload<T>(backend);
                using var fb = backend.Allocate<T>(n, c);
                backend.KernelProduct(kernel, xp, zp, mp, ab, fb);
                var f = new T[n * c];
                backend.Download(fb, f);
                products.Add(f);
            }
        }
        finally
        {
            CpuBackend.FusedProfiles = kept;
        }

        products[1].Should().Equal(products[0], $"the product K(X, Z)·α, {kernelName} {typeof(T).Name} {inputs}");

        using var xb = backend.Upload<T>(x, n, d);
        using var zb = backend.Upload<T>(z, m, d);
        using var mb = metric.Upload<T>(backend);
        foreach (bool same in new[] { true, false })
        {
            foreach (bool derivatives in new[] { false, true })
            {
                int cols = same ? n : m;
                var results = new List<T[]>();
                bool saved = CpuBackend.FusedProfiles;
                try
                {
                    // Two passes; one pass with the kernel as the interface (as the estimators pass it); one pass with the
                    // kernel as its struct type.
                    foreach (var (fused, asStruct) in new[] { (false, false), (true, false), (true, true) })
                    {
                        CpuBackend.FusedProfiles = fused;
                        using var kb = backend.Allocate<T>(n, cols);
                        using var wb = derivatives ? backend.Allocate<T>(n, cols) : null;
                        var zs = same ? xb : zb;
                        switch (asStruct ? kernel : null)
                        {
                            case GaussianKernel g:
                                backend.KernelMatrix(g, xb, zs, mb, kb, wb);
                                break;
                            case LaplaceKernel l:
                                backend.KernelMatrix(l, xb, zs, mb, kb, wb);
                                break;
                            case GeneralizedLaplaceKernel q:
                                backend.KernelMatrix(q, xb, zs, mb, kb, wb);
                                break;
                            default:
                                backend.KernelMatrix(kernel, xb, zs, mb, kb, wb);
                                break;
                        }

                        var k = new T[n * cols];
                        backend.Download(kb, k);
                        results.Add(k);
                        if (wb is not null)
                        {
                            var w = new T[n * cols];
                            backend.Download(wb, w);
                            results.Add(w);
                        }
                    }
                }
                finally
                {
                    CpuBackend.FusedProfiles = saved;
                }

                int outputs = results.Count / 3;
                for (int r = outputs; r < results.Count; r++)
                {
                    results[r].Should().Equal(results[r % outputs], $"{kernelName} {typeof(T).Name}, same {same}, derivatives {derivatives}, result {r}");
                }

                results[outputs].Count(v => v != T.Zero && v != T.One).Should().BeGreaterThan(n, "the kernel values are not trivial");
            }
        }
    }

    /// <summary>A metric that is not symmetric must not be mirrored: x_iᵀMx_j ≠ x_jᵀMx_i.</summary>
    [Fact]
    public void NonSymmetricMetricIsNotMirrored()
    {
        const int n = 300, d = 4;
        using var backend = new ManagedBackend();
        var kernel = new PolynomialKernel(2, 0.5);
        var x = Random(n, d, 31);
        var metric = Random(d, d, 32);
        using var xb = backend.Upload<double>(x, n, d);
        using var mb = backend.Upload<double>(metric, d, d);
        using var kb = backend.Allocate<double>(n, n);
        using var wb = backend.Allocate<double>(n, n);
        backend.KernelMatrix(kernel, xb, xb, mb, kb, wb);
        var expectedK = new double[n * n];
        var expectedW = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double u = 0;
                for (int a = 0; a < d; a++)
                {
                    for (int b = 0; b < d; b++)
                    {
                        u += x[(i * d) + a] * metric[(a * d) + b] * x[(j * d) + b];
                    }
                }

                expectedK[(i * n) + j] = kernel.Value(u);
                expectedW[(i * n) + j] = kernel.Derivative(u);
            }
        }

        RelativeError(Download(backend, kb), expectedK).Should().BeLessThan(1e-12);
        RelativeError(Download(backend, wb), expectedW).Should().BeLessThan(1e-12);
    }

    private static void Check<T>(IComputeBackend backend, string kernelName, string metricName, bool same)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int d = 5;
        int n = same ? 300 : 150, m = same ? 300 : 700;
        var kernel = BackendConformanceTests.MakeKernel(kernelName);
        var metric = BackendConformanceTests.MakeMetric(metricName, d);
        bool normDependent = kernel.Geometry == KernelGeometry.InnerProductAndNorms;
        var x = Cast<T>(Random(n, d, 41));
        var z = same ? x : Cast<T>(Random(m, d, 42));

        // Repeated points: s = 0 off the diagonal, in the diagonal block (3, 20), in a mirrored tile (10, 200) and in
        // the last row block (7, 290); for X against Z, x_5 = z_600 (a later column tile) and x_140 = z_3.
        foreach (var (dst, src) in same ? new[] { (20, 3), (200, 10), (290, 7) } : new[] { (5, -600), (140, -3) })
        {
            if (src >= 0)
            {
                x.AsSpan(src * d, d).CopyTo(x.AsSpan(dst * d, d));
            }
            else
            {
                z.AsSpan(-src * d, d).CopyTo(x.AsSpan(dst * d, d));
            }
        }

        using var xb = backend.Upload<T>(x, n, d);
        using var zb = same ? xb : backend.Upload<T>(z, m, d);
        using var mb = metric.Upload<T>(backend);
        using var kb = backend.Allocate<T>(n, m);
        using var wb = backend.Allocate<T>(n, normDependent ? 2 * m : m);
        backend.KernelMatrix(kernel, xb, zb, mb, kb, wb);
        var k = Download(backend, kb);
        var w = Download(backend, wb);

        var xd = ToDouble(x);
        var zd = ToDouble(z);
        var expectedK = new double[n * m];
        var expectedW = new double[n * m];
        var zeros = new List<int>();
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                var xi = xd.AsSpan(i * d, d);
                var zj = zd.AsSpan(j * d, d);
                if (normDependent)
                {
                    var norm = (INormDependentKernel)kernel;
                    double u = metric.InnerProduct(xi, zj);
                    expectedK[(i * m) + j] = norm.Value(u, metric.InnerProduct(xi, xi), metric.InnerProduct(zj, zj));
                    continue;
                }

                if (kernel.Geometry == KernelGeometry.Radial)
                {
                    double s = metric.SquaredDistance(xi, zj);
                    if (xi.SequenceEqual(zj))
                    {
                        zeros.Add((i * m) + j);
                    }

                    expectedK[(i * m) + j] = kernel.Value(s);
                    expectedW[(i * m) + j] = kernel.Derivative(s);
                }
                else
                {
                    double u = metric.InnerProduct(xi, zj);
                    expectedK[(i * m) + j] = kernel.Value(u);
                    expectedW[(i * m) + j] = kernel.Derivative(u);
                }
            }
        }

        string what = $"{kernel.Name}, {metricName}, {typeof(T).Name}, {(same ? "K(X, X)" : "K(X, Z)")}";
        RelativeError(k, expectedK).Should().BeLessThan(Tolerance<T>(), what);
        if (normDependent)
        {
            return;
        }

        RelativeError(w, expectedW).Should().BeLessThan(Tolerance<T>() * 10, what);
        if (kernel.Geometry != KernelGeometry.Radial)
        {
            return;
        }

        // s = 0 is exact (the tolerance of the distance epilogue), so W there is the kernel's value at 0 exactly (0 for
        // Laplace: the self-terms omitted) and K is 1 (exactly in double; single's vector e^x gives 1 + 2⁻²³ at 0).
        zeros.Count.Should().BeGreaterThan(same ? n : 1, what);
        foreach (int idx in zeros)
        {
            k[idx].Should().BeApproximately(1.0, typeof(T) == typeof(float) ? 1.2e-7 : 0, $"{what}: K at the coincident pair {idx / m}, {idx % m}");
            double d0 = typeof(T) == typeof(float) ? (float)kernel.Derivative(0) : kernel.Derivative(0);
            w[idx].Should().BeApproximately(d0, typeof(T) == typeof(float) ? 2.4e-7 * Math.Abs(d0) : 0, $"{what}: W at the coincident pair {idx / m}, {idx % m}");
        }
    }
}
