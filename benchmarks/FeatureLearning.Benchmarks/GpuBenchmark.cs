using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Benchmarks;

/// <summary>
/// The GPU mode (<c>--gpu</c>): GEMM, the kernel matrix, the Cholesky solve and one RFM iteration at large n (d = 100,
/// c = 10) in single and double precision, one JSON line each, every step synchronized before its clock stops. Each RFM
/// step is also given as a fraction of the GEMM rate measured in the same run (cuBLAS on CUDA). Then ConvRFM's all-pairs
/// patch AGOP at the quick mode's shape (double), for comparison with the CPU figures.
/// </summary>
internal static class GpuBenchmark
{
    public static void Run(IComputeBackend backend, IReadOnlyList<int> sizes, int repeats)
    {
        Console.Error.WriteLine($"# {backend.Describe()}");
        RunPrecision<float>(backend, sizes, repeats);
        RunPrecision<double>(backend, sizes, repeats);
        QuickBenchmark.PatchAgop(backend);
    }

    private static void RunPrecision<T>(IComputeBackend backend, IReadOnlyList<int> sizes, int repeats)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string precision = PrecisionExtensions.Of<T>().ToName();
        const int d = 100, c = 10;
        double bestGemm = 0;
        Rfm(backend, 512, d, c, precision, 0, report: false); // compile every kernel once
        foreach (int n in sizes)
        {
            Attempt($"gemm n={n} {precision}", () =>
            {
                if ((long)n * n > Array.MaxLength)
                {
                    return; // the host-side random matrices cannot be that large; the rate at the smaller sizes is the reference
                }

                using var w = new Workloads<T>(backend);
                var a = w.Random(n, n, 1);
                var b = w.Random(n, n, 2);
                var cm = w.Allocate(n, n);
                double s = Time(backend, () => w.Gemm(a, b, cm), repeats);
                double rate = Workloads<T>.GemmFlops(n) / s / 1e9;
                bestGemm = Math.Max(bestGemm, rate);
                Report($"\"op\":\"gemm\",\"precision\":\"{precision}\",\"n\":{n},\"seconds\":{s:F4},\"gflops\":{rate:F1}");
            });

            Attempt($"kernel matrix n={n} {precision}", () =>
            {
                using var w = new Workloads<T>(backend);
                var x = w.Random(n, d, 5);
                var k = w.Allocate(n, n);
                var wt = w.Allocate(n, n);
                double s = Time(backend, () => backend.KernelMatrix(new Kernels.LaplaceKernel(10.0), x, x, null, k, wt), repeats);
                double rate = Workloads<T>.KernelMatrixFlops(n, n, d) / s / 1e9;
                Report($"\"op\":\"kernel_matrix\",\"precision\":\"{precision}\",\"n\":{n},\"d\":{d},\"with_weights\":true,\"seconds\":{s:F4},\"gflops\":{rate:F1},\"fraction_of_gemm\":{Fraction(rate, bestGemm)}");
            });

            if (n == sizes[0])
            {
                Attempt($"kernel families n={n} {precision}", () =>
                {
                    using var w = new Workloads<T>(backend);
                    var x = w.Random(n, d, 5);
                    var k = w.Allocate(n, n);
                    var wt = w.Allocate(n, n);
                    foreach (var kernel in new Kernels.IKernelFunction[] { new Kernels.PolynomialKernel(2, 1), new Kernels.GaussianKernel(10), new Kernels.LaplaceKernel(10), new Kernels.GeneralizedLaplaceKernel(10, 1.5) })
                    {
                        double s = Time(backend, () => backend.KernelMatrix(kernel, x, x, null, k, wt), repeats);
                        Report($"\"op\":\"kernel_matrix_family\",\"kernel\":\"{kernel.Name}\",\"precision\":\"{precision}\",\"n\":{n},\"d\":{d},\"seconds\":{s:F4},\"elements_per_second\":{(double)n * n / s:E3}");
                    }
                });
            }

            Attempt($"cholesky n={n} {precision}", () =>
            {
                using var w = new Workloads<T>(backend);
                var spd = w.SpdMatrix(n, 3);
                var work = w.Allocate(n, n);
                var y = w.Random(n, c, 4);
                var yWork = w.Allocate(n, c);
                double s = Time(backend, () => w.CholeskySolve(spd, work, y, yWork), repeats);
                double rate = Workloads<T>.CholeskySolveFlops(n, c) / s / 1e9;
                Report($"\"op\":\"cholesky_solve\",\"precision\":\"{precision}\",\"n\":{n},\"c\":{c},\"seconds\":{s:F4},\"gflops\":{rate:F1},\"fraction_of_gemm\":{Fraction(rate, bestGemm)}");
            });

            Attempt($"rfm n={n} {precision}", () => Rfm(backend, n, d, c, precision, bestGemm, report: true));
            Attempt($"rfm n={n} {precision} block {RfmBlock}", () => Rfm(backend, n, d, c, precision, bestGemm, report: true, RfmBlock));
        }
    }

    /// <summary>The <see cref="FeatureLearning.Rfm.RfmOptions.BlockSize"/> of the blocked RFM round.</summary>
    private const int RfmBlock = 4096;

    private static void Rfm(IComputeBackend backend, int n, int d, int c, string precision, double gemmRate, bool report, int? blockSize = null)
    {
        var rng = new Random(n);
        var x = Matrix<double>.Build.Dense(n, d, (_, _) => rng.NextDouble());
        var y = Matrix<double>.Build.Dense(n, c, (_, _) => rng.NextDouble());
        var options = new Rfm.RfmOptions { Kernel = new Kernels.LaplaceKernel(10), Ridge = 1e-3, Rounds = 2, Backend = backend, BlockSize = blockSize };
        var device = backend as Backends.Ilgpu.IlgpuBackend;
        device?.ResetPeakBytesInUse();
        var clock = Stopwatch.StartNew();
        var r = precision == "single"
            ? new Rfm.RecursiveFeatureMachine(options).Fit(x.Map(v => (float)v), y.Map(v => (float)v)).History[0]
            : new Rfm.RecursiveFeatureMachine(options).Fit(x, y).History[0];
        double wall = clock.Elapsed.TotalSeconds;
        if (!report)
        {
            return;
        }

        double kernelFlops = 2.0 * n * n * d;
        double solveFlops = Workloads<double>.CholeskySolveFlops(n, c);
        var form = FeatureLearning.Rfm.AgopEngine.Resolve(FeatureLearning.Rfm.AgopForm.Auto, n, n, d, c);
        var (direct, gram) = FeatureLearning.Rfm.AgopEngine.Cost(n, n, d, c);
        double agopFlops = form == FeatureLearning.Rfm.AgopForm.Gram ? gram : direct;
        double kr = kernelFlops / r.KernelSeconds / 1e9, sr = solveFlops / r.SolveSeconds / 1e9, ar = agopFlops / r.AgopSeconds / 1e9;
        Report(
            $"\"op\":\"rfm_iteration\",\"precision\":\"{precision}\",\"n\":{n},\"d\":{d},\"c\":{c},\"agop_form\":\"{form.ToString().ToLowerInvariant()}\"," +
            $"\"block_size\":{(blockSize is { } b ? b.ToString(CultureInfo.InvariantCulture) : "null")},\"peak_device_bytes\":{device?.PeakBytesInUse ?? -1},\"seconds\":{r.Seconds:F4},\"fit_wall_seconds_two_rounds\":{wall:F2}," +
            $"\"kernel_seconds\":{r.KernelSeconds:F4},\"solve_seconds\":{r.SolveSeconds:F4},\"agop_seconds\":{r.AgopSeconds:F4}," +
            $"\"kernel_gflops\":{kr:F1},\"solve_gflops\":{sr:F1},\"agop_gflops\":{ar:F1},\"gemm_gflops\":{gemmRate:F1}," +
            $"\"kernel_fraction_of_gemm\":{Fraction(kr, gemmRate)},\"solve_fraction_of_gemm\":{Fraction(sr, gemmRate)},\"agop_fraction_of_gemm\":{Fraction(ar, gemmRate)}");
    }

    private static string Fraction(double rate, double gemm) => gemm > 0 ? (rate / gemm).ToString("F3", CultureInfo.InvariantCulture) : "null";

    private static void Attempt(string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is InvalidOperationException or ArithmeticException)
        {
            // Out of device memory (DeviceOutOfMemoryException) or a failed solve: report it and go on with the next size.
            Console.WriteLine($"{{\"op\":\"error\",\"what\":\"{what}\",\"error\":\"{e.GetType().Name}: {e.Message.Replace("\"", "'", StringComparison.Ordinal)}\"}}");
        }

        GC.Collect();
    }

    private static double Time(IComputeBackend backend, Action action, int repeats)
    {
        action();
        backend.Synchronize();
        double best = double.PositiveInfinity;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            backend.Synchronize();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }

        return best;
    }

    private static void Report(string fields) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{{fields}}}"));
}
