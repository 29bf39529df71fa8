using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// The symmetric kernel matrix's mirror, with non-temporal stores through a stage (<c>CpuBackend.MirrorStreams</c>, the
/// default where AVX-512 runs) and with cached stores: K and W identical bit for bit between the two,
/// symmetric, and every element written (the matrices start as NaN), on orders whose last row block leaves partial 8-row blocks and rows shorter
/// than a cache line, row lengths that are not a multiple of a cache line (so destination rows start at every offset
/// within a line) and several 128-row blocks.
/// </summary>
public sealed class CpuKernelMirrorTests
{
    public static TheoryData<int, int> Orders()
    {
        var data = new TheoryData<int, int>();
        foreach (int n in new[] { 130, 137, 145, 261, 300, 389 })
        {
            foreach (int threads in new[] { 0, 1 })
            {
                data.Add(n, threads);
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Orders))]
    public void StreamedMirrorEqualsCachedMirrorBitForBit(int n, int threads)
    {
        // Without AVX-512 (or under FEATURELEARNING_SIMD=256 or scalar) both runs would take the cached mirror.
        Skip.IfNot(CpuBackend.MirrorStreamsHere<double>() && CpuBackend.MirrorStreamsHere<float>(), "the streamed mirror needs AVX-512");
        using var backend = new ManagedBackend(threads);
        Check<double>(backend, n);
        Check<float>(backend, n);
    }

    private static void Check<T>(ManagedBackend backend, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int d = 6;
        var kernel = new LaplaceKernel(2.0);
        var x = Cast<T>(Random(n, d, 7 + n));
        using var xb = backend.Upload<T>(x, n, d);
        var (kStreamed, wStreamed) = Compute(backend, kernel, xb, n, streamed: true);
        var (kCached, wCached) = Compute(backend, kernel, xb, n, streamed: false);
        string what = $"{typeof(T).Name}, n = {n}";
        kStreamed.Should().Equal(kCached, what);

        // Symmetric: exactly where a tile was mirrored; the diagonal blocks are computed on both sides, within rounding.
        double symmetry = typeof(T) == typeof(float) ? 1e-6 : 1e-14;
        wStreamed.Should().Equal(wCached, what);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T.IsNaN(kStreamed[(i * n) + j]).Should().BeFalse($"{what}: K[{i}, {j}] was never written");
                double.CreateTruncating(kStreamed[(i * n) + j]).Should().BeApproximately(double.CreateTruncating(kStreamed[(j * n) + i]), symmetry, $"{what}: K[{i}, {j}] against K[{j}, {i}]");
                double.CreateTruncating(wStreamed[(i * n) + j]).Should().BeApproximately(double.CreateTruncating(wStreamed[(j * n) + i]), symmetry, $"{what}: W[{i}, {j}] against W[{j}, {i}]");
            }
        }

        // Not only equal to each other: the mirrored values are the kernel's (the tile tests check the rest in detail).
        var xd = ToDouble(x);
        double tolerance = typeof(T) == typeof(float) ? 1e-5 : 1e-12;
        int last = n - 1;
        double s = 0;
        for (int a = 0; a < d; a++)
        {
            double diff = xd[a] - xd[(last * d) + a];
            s += diff * diff;
        }

        double.CreateTruncating(kStreamed[last]).Should().BeApproximately(kernel.Value(s), tolerance, $"{what}: K[0, n − 1]");
    }

    private static (T[] K, T[] W) Compute<T>(ManagedBackend backend, LaplaceKernel kernel, DeviceBuffer<T> xb, int n, bool streamed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var nan = Enumerable.Repeat(T.NaN, n * n).ToArray();
        using var kb = backend.Upload<T>(nan, n, n);
        using var wb = backend.Upload<T>(nan, n, n);
        bool saved = CpuBackend.MirrorStreams;
        try
        {
            // Both settings give the same bits, and a kernel matrix reads the setting once (its fence follows that
            // reading), so a test running in parallel cannot see the difference.
            CpuBackend.MirrorStreams = streamed;
            backend.KernelMatrix(kernel, xb, xb, null, kb, wb);
        }
        finally
        {
            CpuBackend.MirrorStreams = saved;
        }

        var k = new T[n * n];
        var w = new T[n * n];
        backend.Download(kb, k);
        backend.Download(wb, w);
        return (k, w);
    }
}
