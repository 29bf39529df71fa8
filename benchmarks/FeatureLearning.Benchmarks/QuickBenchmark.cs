using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.Benchmarks;

/// <summary>
/// The quick mode: each operation at a fixed size, timed as the best of a few runs after a warm-up, printed as
/// one JSON object per line. It finishes in well under two minutes on a 2-core machine.
/// </summary>
internal static class QuickBenchmark
{
    public static void Run(IReadOnlyList<IComputeBackend> backends, int repeats)
    {
        foreach (var backend in backends)
        {
            Console.Error.WriteLine($"# {backend.Describe()}");
            RunAll<double>(backend, repeats);
            RunAll<float>(backend, repeats);
        }

        ReferenceMathNet(repeats);
    }

    private static void RunAll<T>(IComputeBackend backend, int repeats)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var w = new Workloads<T>(backend);
        string precision = PrecisionExtensions.Of<T>().ToName();

        const int gemmN = 2000;
        var a = w.Random(gemmN, gemmN, 1);
        var b = w.Random(gemmN, gemmN, 2);
        var c = w.Allocate(gemmN, gemmN);
        Report("gemm", backend.Name, precision, gemmN, Time(() => w.Gemm(a, b, c), repeats), Workloads<T>.GemmFlops(gemmN));

        const int syrkN = 2000, syrkK = 2000;
        var s = w.Allocate(syrkN, syrkN);
        Report("syrk", backend.Name, precision, syrkN, Time(() => w.Syrk(a, s), repeats), Workloads<T>.SyrkFlops(syrkN, syrkK));

        const int cholN = 4000, rhs = 10;
        var spd = w.SpdMatrix(cholN, 3);
        var work = w.Allocate(cholN, cholN);
        var y = w.Random(cholN, rhs, 4);
        var yWork = w.Allocate(cholN, rhs);
        Report("cholesky_solve", backend.Name, precision, cholN, Time(() => w.CholeskySolve(spd, work, y, yWork), repeats), Workloads<T>.CholeskySolveFlops(cholN, rhs));

        const int kn = 8000, kd = 100;
        var x = w.Random(kn, kd, 5);
        var k = w.Allocate(kn, kn);
        Report("kernel_matrix", backend.Name, precision, kn, Time(() => w.KernelMatrix(x, x, k), repeats), Workloads<T>.KernelMatrixFlops(kn, kn, kd), $",\"d\":{kd},\"kernel\":\"laplace\"");
    }

    private static void ReferenceMathNet(int repeats)
    {
        const int n = 1000;
        var a = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Random(n, n, 1);
        var b = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Random(n, n, 2);
        Report("gemm", "mathnet-managed", "double", n, Time(() => a.Multiply(b), Math.Min(repeats, 2)), Workloads<double>.GemmFlops(n));
    }

    private static double Time(Action action, int repeats)
    {
        action(); // warm-up (JIT, page faults)
        double best = double.PositiveInfinity;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }

        return best;
    }

    private static void Report(string op, string backend, string precision, int n, double seconds, double flops, string extra = "")
    {
        string line = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"op\":\"{op}\",\"backend\":\"{backend}\",\"precision\":\"{precision}\",\"n\":{n}{extra},\"seconds\":{seconds:F4},\"gflops\":{flops / seconds / 1e9:F1}}}");
        Console.WriteLine(line);
    }
}
