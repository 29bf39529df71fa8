using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

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
            RfmIteration(backend, repeats);
            PatchAgop(backend);
            LinearRfmIteration(backend);
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

    /// <summary>
    /// One RFM round (kernel matrix with AGOP weights, Cholesky solve, AGOP and metric update) in double precision per shape,
    /// after a warm-up: the history of a two-round fit splits the time by step, and each line is the fastest of
    /// <paramref name="repeats"/> fits (as the other lines are the best of their runs), its <c>repeats</c> field says how many.
    /// </summary>
    private static void RfmIteration(IComputeBackend backend, int repeats)
    {
        Rfm.RfmIteration Best<T>(Matrix<T> x, Matrix<T> y, Rfm.RfmOptions options)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var best = RfmRound(backend, x, y, options);
            for (int i = 1; i < repeats; i++)
            {
                var r = RfmRound(backend, x, y, options);
                if (r.Seconds < best.Seconds)
                {
                    best = r;
                }
            }

            return best;
        }

        var laplace = new Rfm.RfmOptions { Kernel = new Kernels.LaplaceKernel(10), Ridge = 1e-3 };
        var warm = Random(500, 100, 1, 9);
        RfmRound(backend, warm.X, warm.Y, laplace);
        foreach (int n in new[] { 2000, 5000, 10000 })
        {
            // One untimed round per size: the first touch of fresh n x n buffers pays page faults (seconds at n = 10,000 on
            // the CI machine kind), which is not what this measures.
            var first = Random(n, 100, 1, n);
            RfmRound(backend, first.X, first.Y, laplace);
            foreach (int c in new[] { 1, 10 })
            {
                var (x, y) = Random(n, 100, c, n + c);
                ReportRound(backend, "random", n, 100, c, Best(x, y, laplace), repeats: repeats);
                if (n == 10000)
                {
                    // The same round factored in double (no mixed precision), in single precision, and with the AGOP's
                    // derivative weights formed 2,000 rows at a time (RfmOptions.BlockSize).
                    ReportRound(backend, "random", n, 100, c, Best(x, y, laplace with { Cholesky = new CholeskyOptions { MixedPrecision = MixedPrecision.Off } }), solve: "double", repeats: repeats);
                    ReportRound(backend, "random", n, 100, c, Best(x.Map(v => (float)v), y.Map(v => (float)v), laplace), "single", repeats: repeats);
                    ReportRound(backend, "random", n, 100, c, Best(x, y, laplace with { BlockSize = 2000 }), blockSize: 2000, repeats: repeats);
                }
            }
        }

        var task = Data.ModularArithmetic.Create(61, Data.ModularOperation.Add);
        var (train, _) = task.Split(0.5, 0);
        RfmRound(backend, task.Inputs<double>(train), task.Targets<double>(train), Rfm.RfmOptions.Grokking());
        var pattern = Rfm.SparseColumns.Detect<double>(task.Inputs<double>(train).ToRowMajorArray(), train.Length, 122);
        ReportRound(backend, "grokking p=61", train.Length, 122, 61, Best(task.Inputs<double>(train), task.Targets<double>(train), Rfm.RfmOptions.Grokking()), sparsity: pattern, repeats: repeats);
    }

    /// <summary>The first round of a two-round fit (its history splits the time by step).</summary>
    private static Rfm.RfmIteration RfmRound<T>(IComputeBackend backend, Matrix<T> x, Matrix<T> y, Rfm.RfmOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
        => new Rfm.RecursiveFeatureMachine(options with { Rounds = 2, Backend = backend }).Fit(x, y).History[0];

    /// <summary>
    /// One rfm_iteration line. The AGOP's form and flops are the ones the fit chose (the sparse direct form's count where the
    /// inputs' <paramref name="sparsity"/> is given, as the RFM finds it on a CPU backend); kernel_gflops counts the dense
    /// 2n²d of the distance GEMM even where sparse inputs skip it (sparse_inputs says so).
    /// </summary>
    private static void ReportRound(
        IComputeBackend backend, string label, int n, int d, int c, Rfm.RfmIteration r, string precision = "double", int? blockSize = null, string? solve = null, Rfm.SparseColumns? sparsity = null, int repeats = 1)
    {
        double kernelFlops = 2.0 * n * n * d;
        double solveFlops = Workloads<double>.CholeskySolveFlops(n, c);
        var pattern = backend is CpuBackend ? sparsity : null;
        var form = Rfm.AgopEngine.Resolve(Rfm.AgopForm.Auto, n, n, d, c, pattern);
        var (direct, gram) = Rfm.AgopEngine.Cost(n, n, d, c);
        double agopFlops = form switch
        {
            Rfm.AgopForm.Gram => gram,
            Rfm.AgopForm.SparseDirect => Rfm.AgopEngine.SparseCost(n, n, d, c, pattern!.NonZeros),
            _ => direct,
        };
        solve ??= r.RefinementSteps > 0 ? $"mixed ({r.RefinementSteps} refinement steps)" : precision;
        string line = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"op\":\"rfm_iteration\",\"shape\":\"{label}\",\"backend\":\"{backend.Name}\",\"precision\":\"{precision}\",\"solve\":\"{solve}\",\"n\":{n},\"d\":{d},\"c\":{c},\"agop_form\":\"{form.ToString().ToLowerInvariant()}\",\"block_size\":{(blockSize is { } b ? b.ToString(CultureInfo.InvariantCulture) : "null")},\"sparse_inputs\":{(sparsity is null ? "false" : "true")},\"repeats\":{Math.Max(1, repeats)}," +
            $"\"seconds\":{r.Seconds:F4},\"kernel_seconds\":{r.KernelSeconds:F4},\"solve_seconds\":{r.SolveSeconds:F4},\"agop_seconds\":{r.AgopSeconds:F4}," +
            $"\"kernel_gflops\":{kernelFlops / r.KernelSeconds / 1e9:F1},\"solve_gflops\":{solveFlops / r.SolveSeconds / 1e9:F1},\"agop_gflops\":{agopFlops / r.AgopSeconds / 1e9:F1},\"gflops\":{(kernelFlops + solveFlops + agopFlops) / r.Seconds / 1e9:F1}}}");
        Console.WriteLine(line);
    }

    /// <summary>
    /// The all-pairs patch AGOP of ConvRFM (and, for scale, the all-pairs kernel matrix) on 300 random 16 x 16 images, 5 x 5
    /// patches at stride 2 (P = 64, so 19,200 patch rows against 19,200 centre patches), 10 outputs: best of 2 after a
    /// warm-up. GFLOP/s count the AGOP's derivative-weight GEMM 2(nP)²d and the chosen AGOP form's flops from
    /// <c>AgopEngine.Cost</c>, and the kernel's GEMM 2(nP)²d. In double, then in single precision (one line each).
    /// </summary>
    internal static void PatchAgop(IComputeBackend backend)
    {
        PatchAgop<double>(backend);
        PatchAgop<float>(backend);
    }

    private static void PatchAgop<T>(IComputeBackend backend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 300, size = 16, q = 5, c = 10;
        var rng = new System.Random(3);
        var images = new ConvRfm.ImageBatch(n, 1, size, size, Enumerable.Range(0, n * size * size).Select(_ => rng.NextDouble()).ToArray());
        var layout = new ConvRfm.PatchLayout(q, 2, q / 2, false, 1, size, size);
        var set = layout.Set<T>(images);
        int rows = n * set.Positions, d = set.Dimension;
        var conv = new ConvRfm.ConvKernel<T>(backend, new Kernels.LaplaceKernel(5), ConvRfm.PatchPairing.AllPairs, 1L << 24);
        using var patches = conv.Upload(set);
        using var alpha = backend.Upload<T>(Enumerable.Range(0, n * c).Select(_ => T.CreateTruncating(rng.NextDouble() - 0.5)).ToArray(), n, c);
        using var k = backend.Allocate<T>(n, n);
        double agopSeconds = Time(() => conv.Agop(patches, patches, Kernels.Metric.Identity, null, alpha, CancellationToken.None), 2);
        double kernelSeconds = Time(() => { conv.Matrix(patches, patches, null, k); backend.Synchronize(); }, 2);
        var (direct, gram) = Rfm.AgopEngine.Cost(rows, rows, d, c);
        var form = Rfm.AgopEngine.Resolve(Rfm.AgopForm.Auto, rows, rows, d, c);
        double pairFlops = 2.0 * rows * rows * d;
        double agopFlops = pairFlops + (form == Rfm.AgopForm.Gram ? gram : direct);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"op\":\"patch_agop_all_pairs\",\"backend\":\"{backend.Name}\",\"precision\":\"{PrecisionExtensions.Of<T>().ToName()}\",\"images\":{n},\"positions\":{set.Positions},\"patch_dim\":{d},\"c\":{c},\"agop_form\":\"{form.ToString().ToLowerInvariant()}\"," +
            $"\"agop_seconds\":{agopSeconds:F3},\"agop_gflops\":{agopFlops / agopSeconds / 1e9:F1},\"kernel_seconds\":{kernelSeconds:F3},\"kernel_gflops\":{pairFlops / kernelSeconds / 1e9:F1}}}"));
    }

    /// <summary>One lin-RFM matrix-completion iteration (the second of two, so JIT is excluded) at the issue's sizes.</summary>
    private static void LinearRfmIteration(IComputeBackend backend)
    {
        foreach (var (rows, rank, observed, alpha) in new[] { (500, 5, 10_000, 1.0), (500, 5, 10_000, 0.5), (5000, 10, 500_000, 0.5) })
        {
            var (_, entries) = Data.PlantedProblems.LowRank(rows, rows, rank, observed, 1);
            var model = new LinearRfm.MatrixCompletion(new LinearRfm.MatrixCompletionOptions { Alpha = alpha, MaxIterations = 2, Patience = 5, Backend = backend }).Fit(entries);
            double seconds = model.History[1].Seconds;
            double syrkFlops = (double)rows * rows * rows; // WᵀW, one triangle
            string line = string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"op\":\"lin_rfm_completion_iteration\",\"backend\":\"{backend.Name}\",\"precision\":\"double\",\"n\":{rows},\"rank\":{rank},\"observed\":{observed},\"alpha\":{alpha},\"seconds\":{seconds:F4},\"gflops\":{(syrkFlops + (alpha == 1.0 ? 2.0 * rows * rows * rows : 0)) / seconds / 1e9:F1}}}");
            Console.WriteLine(line);
        }
    }

    private static (Matrix<double> X, Matrix<double> Y) Random(int n, int d, int c, int seed)
    {
        var rng = new System.Random(seed);
        return (Matrix<double>.Build.Dense(n, d, (_, _) => rng.NextDouble()), Matrix<double>.Build.Dense(n, c, (_, _) => rng.NextDouble()));
    }

    private static void ReferenceMathNet(int repeats)
    {
        const int n = 1000;
        var a = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Random(n, n, 1);
        var b = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Random(n, n, 2);
        Report("gemm", "mathnet-managed", "double", n, Time(() => a.Multiply(b), Math.Min(repeats, 2)), Workloads<double>.GemmFlops(n));
    }

    /// <summary>Best of <paramref name="repeats"/> timed runs after one untimed warm-up, in seconds.</summary>
    internal static double Time(Action action, int repeats)
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
