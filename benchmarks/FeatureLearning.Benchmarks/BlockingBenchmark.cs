using System.Globalization;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Benchmarks;

/// <summary>
/// `--quick --gemm-blocking`: the managed GEMM (n = 2000) and Cholesky (n = 4000) under a grid of cache blockings (KC, and MC
/// in register tiles: 1 is the rule's single micro-panel of A, 9 about a tenth of a 1 MiB L2 at KC = 168, the former rule),
/// interleaved with the native backend's in the same process, so that the rule of <see cref="GemmBlocking"/> can be checked on
/// the machine at hand. One JSON line per (precision, blocking); the native figures are the best over the whole sweep.
/// </summary>
internal static class BlockingBenchmark
{
    public static void Run(IComputeBackend managed, IComputeBackend? native, int repeats)
    {
        Console.WriteLine($"# {managed.Describe()}");
        Sweep<double>(managed, native, repeats, [128, 168, 256, 384, 512], [1, 2, 4, 9]);
        Sweep<float>(managed, native, repeats, [128, 168, 256, 384, 512, 768], [1, 2, 4, 9]);
        CholeskyBlocks<double>(managed, repeats, [1860, 4000]);
        CholeskyBlocks<float>(managed, repeats, [1860, 4000, 10000]);
    }

    /// <summary>
    /// The managed Cholesky factor under block sizes 64–256 (the rule's own last), at the orders of a grokking round (1,860), the
    /// sweep's 4,000 and the mixed-precision solve of an n = 10,000 round (single only). Samples alternate between the block sizes.
    /// </summary>
    private static void CholeskyBlocks<T>(IComputeBackend managed, int repeats, int[] orders)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[] blocks = [64, 96, 128, 192, 256];
        foreach (int n in orders)
        {
            var spd = Spd<T>(n);
            using var s = managed.Allocate<T>(n, n);
            int samples = n > 5000 ? Math.Min(repeats, 2) : Math.Max(repeats, 5);
            var best = new double[blocks.Length + 1];
            Array.Fill(best, double.PositiveInfinity);
            for (int r = 0; r < samples; r++)
            {
                for (int b = 0; b <= blocks.Length; b++)
                {
                    BlockedCholesky<T>.BlockSizeOnThisThread = b < blocks.Length ? blocks[b] : null;
                    try
                    {
                        managed.Upload<T>(spd, s);
                        long start = System.Diagnostics.Stopwatch.GetTimestamp();
                        managed.CholeskyFactor(s);
                        best[b] = Math.Min(best[b], System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
                    }
                    finally
                    {
                        BlockedCholesky<T>.BlockSizeOnThisThread = null;
                    }
                }
            }

            for (int b = 0; b <= blocks.Length; b++)
            {
                int nb = b < blocks.Length ? blocks[b] : BlockedCholesky<T>.BlockSize;
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{{\"op\":\"cholesky_block\",\"precision\":\"{PrecisionExtensions.Of<T>().ToName()}\",\"n\":{n},\"block\":{nb},\"rule\":{(b == blocks.Length ? "true" : "false")},\"samples\":{samples},\"seconds\":{best[b]:F4},\"gflops\":{(double)n * n * n / 3 / best[b] / 1e9:F1}}}"));
            }
        }
    }

    private static void Sweep<T>(IComputeBackend managed, IComputeBackend? native, int repeats, int[] depths, int[] tiles)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 2000, nChol = 4000;
        var original = PackedGemm<T>.Blocking;
        var rng = new Random(5);
        var host = Enumerable.Range(0, n * n).Select(_ => T.CreateTruncating(rng.NextDouble())).ToArray();
        using var a = managed.Upload<T>(host, n, n);
        using var b = managed.Upload<T>(host, n, n);
        using var c = managed.Allocate<T>(n, n);
        var spd = Spd<T>(nChol);
        using var s = managed.Allocate<T>(nChol, nChol);
        double nativeGemm = 0, nativeChol = 0;
        using var na = native?.Upload<T>(host, n, n);
        using var nb = native?.Upload<T>(host, n, n);
        using var nc = native?.Allocate<T>(n, n);
        using var ns = native?.Allocate<T>(nChol, nChol);
        try
        {
            foreach (int kc in depths)
            {
                foreach (int tile in tiles)
                {
                    int mc = tile * PackedGemm<T>.MR;
                    PackedGemm<T>.Blocking = new GemmBlocking(kc, mc, original.Nc);
                    double gemm = QuickBenchmark.Time(() => managed.Gemm(Transpose.None, Transpose.None, T.One, a, b, T.Zero, c), repeats);
                    double chol = QuickBenchmark.Time(() => { managed.Upload<T>(spd, s); managed.CholeskyFactor(s); }, Math.Min(repeats, 2));
                    if (native is not null)
                    {
                        nativeGemm = Math.Max(nativeGemm, 2.0 * n * n * n / QuickBenchmark.Time(() => native.Gemm(Transpose.None, Transpose.None, T.One, na!, nb!, T.Zero, nc!), repeats) / 1e9);
                        nativeChol = Math.Max(nativeChol, (double)nChol * nChol * nChol / 3 / QuickBenchmark.Time(() => { native.Upload<T>(spd, ns!); native.CholeskyFactor(ns!); }, Math.Min(repeats, 2)) / 1e9);
                    }

                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{{\"op\":\"gemm_blocking\",\"precision\":\"{PrecisionExtensions.Of<T>().ToName()}\",\"kc\":{kc},\"mc\":{mc},\"nc\":{original.Nc},\"cholesky_block\":{BlockedCholesky<T>.BlockSize},\"rule\":{(kc == original.Kc && mc == original.Mc ? "true" : "false")}," +
                        $"\"gemm_gflops\":{2.0 * n * n * n / gemm / 1e9:F1},\"cholesky_gflops\":{(double)nChol * nChol * nChol / 3 / chol / 1e9:F1},\"native_gemm_gflops\":{nativeGemm:F1},\"native_cholesky_gflops\":{nativeChol:F1}}}"));
                }
            }

            // The rule's own choice, last (it may be off the grid).
            PackedGemm<T>.Blocking = original;
            double g = QuickBenchmark.Time(() => managed.Gemm(Transpose.None, Transpose.None, T.One, a, b, T.Zero, c), repeats);
            double ch = QuickBenchmark.Time(() => { managed.Upload<T>(spd, s); managed.CholeskyFactor(s); }, Math.Min(repeats, 2));
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"op\":\"gemm_blocking\",\"precision\":\"{PrecisionExtensions.Of<T>().ToName()}\",\"kc\":{original.Kc},\"mc\":{original.Mc},\"nc\":{original.Nc},\"cholesky_block\":{BlockedCholesky<T>.BlockSize},\"rule\":true," +
                $"\"gemm_gflops\":{2.0 * n * n * n / g / 1e9:F1},\"cholesky_gflops\":{(double)nChol * nChol * nChol / 3 / ch / 1e9:F1},\"native_gemm_gflops\":{nativeGemm:F1},\"native_cholesky_gflops\":{nativeChol:F1}}}"));
        }
        finally
        {
            PackedGemm<T>.Blocking = original;
        }
    }

    private static T[] Spd<T>(int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // A diagonally dominant symmetric matrix: positive definite in either precision.
        var rng = new Random(6);
        var a = new T[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                a[(i * n) + j] = a[(j * n) + i] = T.CreateTruncating(rng.NextDouble() / n);
            }

            a[(i * n) + i] = T.CreateTruncating(2.0);
        }

        return a;
    }
}
