using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Solvers;
using FeatureLearning.Trees;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Samples.Scale;

/// <summary>How the sample fits: one exact RFM, one Nyström RFM, or the RFM tree.</summary>
internal enum ScaleSolver
{
    Exact,
    Nystrom,
    Tree,
}

/// <summary>The settings of one run (the sample's command-line options other than the data source).</summary>
internal sealed record ScaleSettings
{
    public ScaleSolver Solver { get; init; } = ScaleSolver.Nystrom;

    /// <summary>Nyström centres m (of the RFM, or of every leaf with <see cref="LeafSolver"/> = Nyström).</summary>
    public int Centres { get; init; } = 1_000;

    /// <summary>The tree's largest leaf.</summary>
    public int LeafSize { get; init; } = 10_000;

    /// <summary>How the tree's leaves solve: exact (the default) or Nyström.</summary>
    public ScaleSolver LeafSolver { get; init; } = ScaleSolver.Exact;

    /// <summary>RFM rounds (of the RFM, or of every leaf).</summary>
    public int Iterations { get; init; } = 5;

    public double Bandwidth { get; init; } = 10;

    /// <summary>The kernel family: laplace (the default), gaussian or generalized-laplace (with <see cref="Exponent"/>).</summary>
    public string Kernel { get; init; } = "laplace";

    /// <summary>The exponent γ ∈ (0, 2] of the generalized Laplace kernel exp(−‖x − z‖^γ / L^γ).</summary>
    public double Exponent { get; init; } = 1.5;

    public double Ridge { get; init; } = 1e-3;

    /// <summary>The CG iteration cap of the Nyström solver.</summary>
    public int MaxCgIterations { get; init; } = 100;

    /// <summary>The CG stopping tolerance of the Nyström solver; null for the solver's default.</summary>
    public double? CgTolerance { get; init; }

    /// <summary>Rows of K_nm per streamed block; null for the solver's default.</summary>
    public int? BlockRows { get; init; }

    /// <summary>How the Nyström centres are drawn.</summary>
    public CentreSelection CentreSelection { get; init; } = CentreSelection.Uniform;

    /// <summary>The AGOP sample size; null for the library's default.</summary>
    public int? AgopSample { get; init; }

    public int Seed { get; init; }

    /// <summary>Checks the settings, throwing an <see cref="ArgumentException"/> that names the option.</summary>
    public void Validate()
    {
        Require(Centres >= 1, $"--centres must be at least 1, not {Centres}.");
        Require(LeafSize >= 2, $"--leaf-size must be at least 2, not {LeafSize}.");
        Require(LeafSolver != ScaleSolver.Tree, "--leaf-solver must be exact or nystrom.");
        Require(Iterations >= 1, $"--iterations must be at least 1, not {Iterations}.");
        Require(Bandwidth > 0 && double.IsFinite(Bandwidth), $"--bandwidth must be positive, not {Bandwidth}.");
        Require(Kernel is "laplace" or "gaussian" or "generalized-laplace", $"--kernel must be laplace, gaussian or generalized-laplace, not '{Kernel}'.");
        Require(Exponent is > 0 and <= 2, $"--exponent must be in (0, 2], not {Exponent}.");
        Require(Ridge >= 0 && double.IsFinite(Ridge), $"--ridge must be at least 0, not {Ridge}.");
        Require(MaxCgIterations >= 1, $"--max-cg must be at least 1, not {MaxCgIterations}.");
        Require(BlockRows is null or >= 1, $"--block-rows must be at least 1, not {BlockRows}.");
        Require(CgTolerance is null or (> 0 and < 1), $"--cg-tolerance must be in (0, 1), not {CgTolerance}.");
        Require(AgopSample is null or >= 1, $"--agop-sample must be at least 1, not {AgopSample}.");
    }

    /// <summary>The kernel of every RFM of the run (the single RFM, the tree's splits and its leaves).</summary>
    public IKernelFunction KernelFunction() => Kernel switch
    {
        "gaussian" => new GaussianKernel(Bandwidth),
        "generalized-laplace" => new GeneralizedLaplaceKernel(Bandwidth, Exponent),
        _ => new LaplaceKernel(Bandwidth),
    };

    /// <summary>The kernel as the JSON lines name it: "laplace L=10", "generalized-laplace L=5 gamma=1.5".</summary>
    public string KernelLabel => Kernel == "generalized-laplace"
        ? string.Create(CultureInfo.InvariantCulture, $"{Kernel} L={Bandwidth} gamma={Exponent}")
        : string.Create(CultureInfo.InvariantCulture, $"{Kernel} L={Bandwidth}");

    /// <summary>The RFM options of the single RFM (exact or Nyström) or of the tree's leaves.</summary>
    public RfmOptions RfmOptions(ScaleSolver solver, IComputeBackend? backend, Action<SolverProgress>? onSolverIteration, Action<RfmIteration>? onRound) => new()
    {
        Kernel = KernelFunction(),
        Ridge = Ridge,
        Rounds = Iterations,
        AgopSampleSize = AgopSample,
        Solver = solver == ScaleSolver.Nystrom ? KernelSolver.Nystrom(Centres, Seed) with { MaxIterations = MaxCgIterations, Tolerance = CgTolerance, Selection = CentreSelection, BlockRows = BlockRows ?? NystromSolver.DefaultBlockRows } : KernelSolver.Exact,
        OnSolverIteration = solver == ScaleSolver.Nystrom ? onSolverIteration : null,
        OnRound = onRound,
        Seed = Seed,
        Backend = backend,
    };

    internal static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}

/// <summary>One line of the report: an RFM round, or (<see cref="Round"/> = −1) the whole tree fit.</summary>
/// <param name="Solver">exact, nystrom or tree.</param>
/// <param name="Round">The round, from 0; −1 for the tree's one line.</param>
/// <param name="TestMse">Mean squared error on the test set of the round's model.</param>
/// <param name="TestR2">1 − TestMse / Var(y_test).</param>
/// <param name="Seconds">Wall-clock seconds of the round (its test-set evaluation included), or of the whole tree fit.</param>
/// <param name="CgIterations">CG iterations of the round's Nyström solve; 0 for the exact solver and the tree.</param>
/// <param name="CgResidual">Final relative CG residual of the round; 0 for the exact solver and the tree.</param>
/// <param name="Leaves">The tree's leaves; 0 for a single RFM.</param>
/// <param name="PeakMemoryBytes">The process's peak resident memory so far.</param>
/// <param name="Parts">The round's kernel, solve and AGOP seconds (zero for the tree).</param>
/// <param name="PeakDeviceBytes">On a GPU backend, the peak device memory of the backend's buffers so far; otherwise 0.</param>
internal readonly record struct ScaleReport(string Solver, int Round, double TestMse, double TestR2, double Seconds, int CgIterations, double CgResidual, int Leaves, long PeakMemoryBytes, (double Kernel, double Solve, double Agop) Parts = default, long PeakDeviceBytes = 0)
{
    /// <summary>The report as one JSON line.</summary>
    /// <param name="n">Training rows.</param>
    /// <param name="d">Input dimension.</param>
    /// <param name="kernel">The kernel's label (<see cref="ScaleSettings.KernelLabel"/>).</param>
    public string ToJson(int n, int d, string kernel) => Round >= 0
        ? Invariant($"{{\"solver\":\"{Solver}\",\"kernel\":\"{kernel}\",\"n\":{n},\"d\":{d},\"round\":{Round},\"test_mse\":{Json(TestMse)},\"test_r2\":{Json(TestR2)},\"seconds\":{Json(Seconds)},\"cg_iterations\":{CgIterations},\"cg_residual\":{Json(CgResidual)},\"peak_memory_bytes\":{PeakMemoryBytes},\"kernel_seconds\":{Json(Parts.Kernel)},\"solve_seconds\":{Json(Parts.Solve)},\"agop_seconds\":{Json(Parts.Agop)}{Device}}}")
        : Invariant($"{{\"solver\":\"{Solver}\",\"kernel\":\"{kernel}\",\"n\":{n},\"d\":{d},\"test_mse\":{Json(TestMse)},\"test_r2\":{Json(TestR2)},\"seconds\":{Json(Seconds)},\"leaves\":{Leaves},\"peak_memory_bytes\":{PeakMemoryBytes}{Device}}}");

    /// <summary>The report as a table row (<see cref="Header"/>).</summary>
    public string ToRow() => Round >= 0
        ? Invariant($"{Round,5} {TestMse,12:G5} {TestR2,8:F4} {Seconds,9:F2} {CgIterations,6} {CgResidual,10:G3} {PeakMemoryBytes / 1048576.0,10:F0}")
        : Invariant($"tree: {Leaves} leaves, test MSE {TestMse:G5}, test R² {TestR2:F4}, {Seconds:F2} s, peak memory {PeakMemoryBytes / 1048576.0:F0} MiB");

    private string Device => PeakDeviceBytes > 0 ? Invariant($",\"peak_device_bytes\":{PeakDeviceBytes}") : string.Empty;

    /// <summary>The table header of the RFM rounds.</summary>
    public static string Header => "round     test MSE  test R²   seconds     CG   residual  peak MiB";

    private static string Json(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "null";

    private static string Invariant(FormattableString s) => FormattableString.Invariant(s);
}

/// <summary>
/// The core of samples/Scale, linked into the tests: the planted synthetic problem, generated in blocks of rows, and the
/// fit (exact RFM, Nyström RFM or RFM tree) with one report per round or one for the tree.
/// </summary>
internal static class ScaleRun
{
    /// <summary>Rows generated per block (each block from its own seeded generator).</summary>
    private const int BlockRows = 4_096;

    /// <summary>
    /// The planted problem: x ~ N(0, I_d) and y = 2 z₁z₂ + 2 tanh(2 z₃) + 0.1 ε with z_k = ⟨u_k, x⟩ for three orthonormal
    /// directions u₁, u₂, u₃ drawn from <paramref name="seed"/> (the same for every <paramref name="stream"/>) and ε ~ N(0, 1).
    /// The matrix is filled in place, block by block, so nothing but X (n × d) and y (n × 1) is allocated.
    /// </summary>
    /// <param name="n">Rows.</param>
    /// <param name="d">Input dimension, at least 3.</param>
    /// <param name="seed">Seed of the directions and of the rows.</param>
    /// <param name="stream">0 for the training rows, 1 for the test rows: independent rows with the same directions.</param>
    public static (Matrix<T> X, Matrix<T> Y) Planted<T>(int n, int d, int seed, int stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ScaleSettings.Require(n >= 1, $"--n must be at least 1, not {n}.");
        ScaleSettings.Require(d >= 3, $"--d must be at least 3 (the target depends on 3 directions), not {d}.");
        var u = Directions(d, seed);
        var x = new T[(long)n * d <= Array.MaxLength ? n * d : throw new ArgumentException($"--n {n} × --d {d} is more elements than one array holds.")];
        var y = new T[n];
        int blocks = (n + BlockRows - 1) / BlockRows;
        Parallel.For(0, blocks, b =>
        {
            var random = new Random(BlockSeed(seed, stream, b));
            var row = new double[d];
            for (int i = b * BlockRows; i < Math.Min(n, (b + 1) * BlockRows); i++)
            {
                for (int j = 0; j < d; j++)
                {
                    row[j] = Gaussian(random);
                    x[(j * n) + i] = T.CreateTruncating(row[j]);   // column-major, as Matrix<T>.Build.Dense(n, d, storage)
                }

                double z1 = Dot(u[0], row), z2 = Dot(u[1], row), z3 = Dot(u[2], row);
                y[i] = T.CreateTruncating((2 * z1 * z2) + (2 * Math.Tanh(2 * z3)) + (0.1 * Gaussian(random)));
            }
        });
        return (Matrix<T>.Build.Dense(n, d, x), Matrix<T>.Build.Dense(n, 1, y));
    }

    /// <summary>Fits and reports: one report per RFM round (exact, Nyström) or one for the whole tree.</summary>
    /// <param name="onSolverIteration">Called after every CG iteration of a Nyström solve (the progress bar).</param>
    /// <param name="onLeaf">Called after every split and fitted leaf of the tree.</param>
    /// <param name="peakDeviceBytes">The backend's peak device memory so far (a GPU backend), for the reports.</param>
    public static void Fit<T>(
        ScaleSettings settings, Matrix<T> x, Matrix<T> y, Matrix<T> xTest, Matrix<T> yTest, IComputeBackend? backend,
        Action<ScaleReport> report, Action<SolverProgress>? onSolverIteration = null, Action<RfmTreeProgress>? onLeaf = null, Func<long>? peakDeviceBytes = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        settings.Validate();
        double variance = Variance(yTest);
        string name = settings.Solver.ToString().ToLowerInvariant();
        var clock = Stopwatch.StartNew();
        if (settings.Solver == ScaleSolver.Tree)
        {
            var tree = new RfmTree(new RfmTreeOptions
            {
                MaxLeafSize = settings.LeafSize,
                LeafRfm = settings.RfmOptions(settings.LeafSolver, backend, onSolverIteration, null),
                SplitRfm = new RfmOptions { Kernel = settings.KernelFunction(), Ridge = settings.Ridge, Rounds = 3, SelectBy = SelectionMetric.Last, Seed = settings.Seed, Backend = backend },
                Seed = settings.Seed,
            });
            var model = tree.Fit(x, y, onLeaf is null ? null : new SynchronousProgress<RfmTreeProgress>(onLeaf));
            double mse = Mse(model.Predict(xTest), yTest);
            report(new ScaleReport(name, -1, mse, 1 - (mse / variance), clock.Elapsed.TotalSeconds, 0, 0, model.Leaves.Count, PeakMemoryBytes(), PeakDeviceBytes: peakDeviceBytes?.Invoke() ?? 0));
            return;
        }

        var options = settings.RfmOptions(settings.Solver, backend, onSolverIteration, round =>
        {
            double seconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            report(new ScaleReport(
                name, round.Iteration, round.ValidationMse, 1 - (round.ValidationMse / variance), seconds, round.SolverIterations, round.SolverResidual, 0, PeakMemoryBytes(),
                (round.KernelSeconds, round.SolveSeconds, round.AgopSeconds), peakDeviceBytes?.Invoke() ?? 0));
        });
        _ = new RecursiveFeatureMachine(options).Fit(x, y, (xTest, yTest));
    }

    /// <summary>The process's peak resident memory: VmHWM of /proc/self/status on Linux, else <see cref="Process.PeakWorkingSet64"/>.</summary>
    public static long PeakMemoryBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                foreach (string line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        var parts = line[6..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;   // "VmHWM:  123456 kB"
                    }
                }
            }
            catch (IOException)
            {
                // Fall through to the portable figure.
            }
        }

        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    /// <summary>Mean squared error over all entries.</summary>
    public static double Mse<T>(Matrix<T> prediction, Matrix<T> target)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int i = 0; i < target.RowCount; i++)
        {
            for (int j = 0; j < target.ColumnCount; j++)
            {
                double e = double.CreateTruncating(prediction[i, j]) - double.CreateTruncating(target[i, j]);
                sum += e * e;
            }
        }

        return sum / ((double)target.RowCount * target.ColumnCount);
    }

    /// <summary>The variance of the targets (mean over the outputs), the MSE of predicting each output's mean.</summary>
    public static double Variance<T>(Matrix<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int j = 0; j < y.ColumnCount; j++)
        {
            double mean = 0, square = 0;
            for (int i = 0; i < y.RowCount; i++)
            {
                mean += double.CreateTruncating(y[i, j]);
            }

            mean /= y.RowCount;
            for (int i = 0; i < y.RowCount; i++)
            {
                double e = double.CreateTruncating(y[i, j]) - mean;
                square += e * e;
            }

            total += square / y.RowCount;
        }

        return total / y.ColumnCount;
    }

    /// <summary>Three orthonormal directions in ℝ^d (Gram–Schmidt on seeded Gaussian vectors).</summary>
    private static double[][] Directions(int d, int seed)
    {
        var random = new Random(BlockSeed(seed, -1, 0));
        var u = new double[3][];
        for (int k = 0; k < 3; k++)
        {
            var v = new double[d];
            for (int j = 0; j < d; j++)
            {
                v[j] = Gaussian(random);
            }

            for (int l = 0; l < k; l++)
            {
                double p = Dot(u[l], v);
                for (int j = 0; j < d; j++)
                {
                    v[j] -= p * u[l][j];
                }
            }

            double norm = Math.Sqrt(Dot(v, v));
            u[k] = v.Select(e => e / norm).ToArray();
        }

        return u;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++)
        {
            s += a[j] * b[j];
        }

        return s;
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>A generator seed from the run's seed, the stream and the block (SplitMix64 mixing, the same on every platform).</summary>
    private static int BlockSeed(int seed, int stream, int block)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32) ^ ((ulong)(uint)stream << 20) ^ (uint)block) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>An <see cref="IProgress{T}"/> that calls its action on the reporting thread.</summary>
    private sealed class SynchronousProgress<TValue>(Action<TValue> action) : IProgress<TValue>
    {
        public void Report(TValue value) => action(value);
    }
}
