using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using FeatureLearning.Backends.Native;
using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Benchmarks;

/// <summary>
/// <c>--quick --blas-vendors</c>: MKL against OpenBLAS (each through the native backend, chosen explicitly) and the managed
/// backend, in one process. Every sample of an operation visits the backends in turn (A B C A B C …, after one warm-up
/// each), with a pause before each sample so that the previous library's idle worker threads have gone to sleep; the best
/// sample is reported, all samples are in the JSON line, and each backend but OpenBLAS has the median over the passes of its
/// speed against OpenBLAS's in the same pass (<c>openblas_ratio_median</c>). GEMM (double and single, n = 2000 and 4000), the Cholesky
/// factor (n = 4000) and one RFM round (n = 5000, d = 100, c = 10, Laplace, double).
/// </summary>
internal static class VendorBenchmark
{
    private const int PauseMilliseconds = 250;

    public static void Run(int repeats)
    {
        var backends = new List<(string Label, IComputeBackend Backend)> { ("managed", new ManagedBackend()) };
        foreach (string vendor in new[] { "mkl", "openblas" })
        {
            // Explicitly chosen: a vendor that cannot be loaded is left out with its reason, never replaced by the other.
            try
            {
                backends.Add(($"native-{vendor}", new NativeBackend(new NativeBackendOptions { LibraryPath = vendor })));
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"# {vendor}: not available: {e.Message}");
            }
        }

        foreach (var (label, backend) in backends)
        {
            Console.Error.WriteLine($"# {label}: {backend.Describe()}");
        }

        foreach (int n in new[] { 2000, 4000 })
        {
            Gemm<double>(backends, n, repeats);
            Gemm<float>(backends, n, repeats);
        }

        CholeskyFactor<double>(backends, 4000, repeats);
        CholeskyFactor<float>(backends, 4000, repeats);
        RfmRound(backends, 5000, 100, 10, repeats);

        foreach (var (_, backend) in backends)
        {
            backend.Dispose();
        }
    }

    private static void Gemm<T>(IReadOnlyList<(string Label, IComputeBackend Backend)> backends, int n, int repeats)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var loads = backends.Select(b =>
        {
            var w = new Workloads<T>(b.Backend);
            var (x, y, z) = (w.Random(n, n, 1), w.Random(n, n, 2), w.Allocate(n, n));
            return (w, Run: (Action)(() => w.Gemm(x, y, z)));
        }).ToList();
        Interleave("gemm", PrecisionExtensions.Of<T>().ToName(), n, Workloads<T>.GemmFlops(n), backends, loads.Select(l => (Action?)null).ToList(), loads.Select(l => l.Run).ToList(), repeats);
        loads.ForEach(l => l.w.Dispose());
    }

    private static void CholeskyFactor<T>(IReadOnlyList<(string Label, IComputeBackend Backend)> backends, int n, int repeats)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var loads = backends.Select(b =>
        {
            var w = new Workloads<T>(b.Backend);
            var (spd, work) = (w.SpdMatrix(n, 3), w.Allocate(n, n));
            return (w, Setup: (Action)(() => b.Backend.Copy(spd, work)), Run: (Action)(() => b.Backend.CholeskyFactor(work, CholeskyOptions.NoJitter)));
        }).ToList();
        double flops = (double)n * n * n / 3;
        Interleave("cholesky_factor", PrecisionExtensions.Of<T>().ToName(), n, flops, backends, loads.Select(l => (Action?)l.Setup).ToList(), loads.Select(l => l.Run).ToList(), repeats);
        loads.ForEach(l => l.w.Dispose());
    }

    /// <summary>One RFM round (kernel matrix with AGOP weights, Cholesky solve, AGOP, metric update): the first round of a two-round fit.</summary>
    private static void RfmRound(IReadOnlyList<(string Label, IComputeBackend Backend)> backends, int n, int d, int c, int repeats)
    {
        var rng = new Random(n + c);
        var x = Matrix<double>.Build.Dense(n, d, (_, _) => rng.NextDouble());
        var y = Matrix<double>.Build.Dense(n, c, (_, _) => rng.NextDouble());
        var options = new Rfm.RfmOptions { Kernel = new Kernels.LaplaceKernel(10), Ridge = 1e-3, Rounds = 2 };
        var rounds = backends.Select(_ => new List<Rfm.RfmIteration>()).ToList();
        var runs = backends.Select((b, i) => (Action)(() =>
            rounds[i].Add(new Rfm.RecursiveFeatureMachine(options with { Backend = b.Backend }).Fit(x, y).History[0]))).ToList();
        var form = Rfm.AgopEngine.Resolve(Rfm.AgopForm.Auto, n, n, d, c);
        var (direct, gram) = Rfm.AgopEngine.Cost(n, n, d, c);
        double flops = (2.0 * n * n * d) + Workloads<double>.CholeskySolveFlops(n, c) + (form == Rfm.AgopForm.Gram ? gram : direct);
        // A sample is the first round's own time (the fit's wall clock also holds the second round and the set-up).
        Interleave("rfm_round", "double", n, flops, backends, runs.Select(_ => (Action?)null).ToList(), runs, repeats, i =>
        {
            var best = rounds[i].Skip(1).MinBy(r => r.Seconds)!;
            return string.Create(CultureInfo.InvariantCulture, $",\"d\":{d},\"c\":{c},\"agop_form\":\"{form.ToString().ToLowerInvariant()}\",\"kernel_seconds\":{best.KernelSeconds:F4},\"solve_seconds\":{best.SolveSeconds:F4},\"agop_seconds\":{best.AgopSeconds:F4}");
        }, i => rounds[i][^1].Seconds);
    }

    /// <summary>
    /// One warm-up per backend, then <paramref name="repeats"/> passes over the backends in turn, each sample after an
    /// untimed <paramref name="setups"/> call and a pause; a sample is the wall clock of the run, or what
    /// <paramref name="sampleSeconds"/> reads back after it. Prints one JSON line per backend: best seconds, its GFLOP/s
    /// and every sample's GFLOP/s in order.
    /// </summary>
    private static void Interleave(
        string op,
        string precision,
        int n,
        double flops,
        IReadOnlyList<(string Label, IComputeBackend Backend)> backends,
        List<Action?> setups,
        List<Action> runs,
        int repeats,
        Func<int, string>? extra = null,
        Func<int, double>? sampleSeconds = null)
    {
        var samples = backends.Select(_ => new List<double>()).ToList();
        for (int pass = -1; pass < repeats; pass++)
        {
            for (int i = 0; i < backends.Count; i++)
            {
                setups[i]?.Invoke();
                Thread.Sleep(PauseMilliseconds);
                var sw = Stopwatch.StartNew();
                runs[i]();
                backends[i].Backend.Synchronize();
                if (pass >= 0)
                {
                    samples[i].Add(sampleSeconds?.Invoke(i) ?? sw.Elapsed.TotalSeconds);
                }
            }
        }

        // Sample s of every backend was taken in the same pass, seconds apart: the median over the passes of each backend's
        // speed against OpenBLAS's in the same pass follows the machine's slow and fast periods less than the ratio of bests.
        int reference = backends.ToList().FindIndex(b => b.Label == "native-openblas");
        for (int i = 0; i < backends.Count; i++)
        {
            double best = samples[i].Min();
            string all = string.Join(",", samples[i].Select(s => (flops / s / 1e9).ToString("F1", CultureInfo.InvariantCulture)));
            string ratio = string.Empty;
            if (reference >= 0 && reference != i)
            {
                var perPass = samples[i].Zip(samples[reference], (own, openblas) => openblas / own).Order().ToList();
                double median = perPass.Count % 2 == 1 ? perPass[perPass.Count / 2] : (perPass[(perPass.Count / 2) - 1] + perPass[perPass.Count / 2]) / 2;
                ratio = string.Create(CultureInfo.InvariantCulture, $",\"openblas_ratio_median\":{median:F3}");
            }

            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"op\":\"{op}\",\"backend\":\"{backends[i].Label}\",\"precision\":\"{precision}\",\"n\":{n}{extra?.Invoke(i) ?? string.Empty},\"seconds\":{best:F4},\"gflops\":{flops / best / 1e9:F1},\"samples_gflops\":[{all}]{ratio}}}"));
        }
    }
}
