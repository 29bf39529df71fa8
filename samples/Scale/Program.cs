// RFM at large n: the exact solver, the Nyström solver (Falkon's preconditioned CG) and the RFM tree on one problem, with
// the test error, time, CG iterations and peak memory of every round (docs/scale.md, "samples/Scale").
//
//   dotnet run -c Release --project samples/Scale -- [--solver exact|nystrom|tree] [--n 20000] [--d 50] [--n-test k]
//       [--csv data.csv [--header] [--target-column name|index]] [--test-fraction 0.2]
//       [--centres 1000] [--max-cg 100] [--cg-tolerance t] [--centre-selection uniform|leverage] [--block-rows b]
//       [--leaf-size 10000] [--leaf-solver exact|nystrom]
//       [--iterations 5] [--kernel laplace|gaussian|generalized-laplace [--exponent 1.5]] [--bandwidth 10] [--ridge 1e-3]
//       [--agop-sample k]
//       [--seed 0] [--precision double] [--backend managed] [--json]
//
// Data: without --csv, the planted problem of ScaleRun.Planted: x ~ N(0, I_d), y = 2 z₁z₂ + 2 tanh(2 z₃) + 0.1 ε with
// z_k = ⟨u_k, x⟩ for three seeded orthonormal directions; --n training rows and --n-test test rows (default: the test
// rows are --test-fraction of all rows, n·f/(1 − f)), generated block by block straight into the matrices. With --csv,
// any numeric CSV: the target is the last column unless --target-column names it (a header name implies --header), a
// seeded --test-fraction is held out and the features are standardised with the training statistics.
// Output: per RFM round (exact, nystrom) round, test MSE and R² of that round's model (the test set is the RFM's
// validation set), wall-clock seconds of the round and its kernel, solve and AGOP parts, CG iterations (0 for exact) and
// the process's peak resident memory (and, on the ILGPU backend, the peak device memory of its buffers);
// with --json one JSON line per round. The tree (leaves of at most --leaf-size rows, each an RFM with --iterations rounds,
// exact or Nyström with --centres) prints one line for the whole fit. A progress bar on standard error shows the CG
// residual during Nyström solves, the rounds of an exact RFM, and the leaves of the tree.
using System.Globalization;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.Samples;
using FeatureLearning.Samples.Scale;
using FeatureLearning.Solvers;
using FeatureLearning.Trees;
using MathNet.Numerics.LinearAlgebra;

try
{
    var options = new SampleOptions(args);
    using var backend = options.Backend();
    var settings = new ScaleSettings
    {
        Solver = ParseSolver(options.Get("solver", "nystrom"), "--solver", allowTree: true),
        Centres = Int(options, "centres", 1_000),
        LeafSize = Int(options, "leaf-size", 10_000),
        LeafSolver = ParseSolver(options.Get("leaf-solver", "exact"), "--leaf-solver", allowTree: false),
        Iterations = Int(options, "iterations", 5),
        Bandwidth = Double(options, "bandwidth", 10),
        Kernel = options.Get("kernel", "laplace").ToLowerInvariant(),
        Exponent = Double(options, "exponent", 1.5),
        Ridge = Double(options, "ridge", 1e-3),
        MaxCgIterations = Int(options, "max-cg", 100),
        CgTolerance = options.Has("cg-tolerance") ? Double(options, "cg-tolerance", 0) : null,
        BlockRows = options.Has("block-rows") ? Int(options, "block-rows", 0) : null,
        CentreSelection = options.Get("centre-selection", "uniform").ToUpperInvariant() switch
        {
            "UNIFORM" => CentreSelection.Uniform,
            "LEVERAGE" => CentreSelection.ApproximateLeverage,
            var other => throw new ArgumentException($"--centre-selection must be uniform or leverage, not '{other}'."),
        },
        AgopSample = options.Has("agop-sample") ? Int(options, "agop-sample", 0) : null,
        Seed = Int(options, "seed", 0),
    };
    settings.Validate();
    if (options.Precision() == Precision.Single)
    {
        Run<float>(options, settings, backend);
    }
    else
    {
        Run<double>(options, settings, backend);
    }
}
catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
{
    Console.Error.WriteLine($"Scale: {e.Message}");
    return 1;
}

return 0;

static void Run<T>(SampleOptions options, ScaleSettings settings, IComputeBackend backend)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    bool json = options.Has("json");
    double testFraction = Double(options, "test-fraction", 0.2);
    ScaleSettings.Require(testFraction is > 0 and < 1, $"--test-fraction must be in (0, 1), not {testFraction}.");
    Matrix<T> x, y, xTest, yTest;
    string source;
    if (options.Has("csv"))
    {
        string path = options.Get("csv", string.Empty);
        string? target = options.Has("target-column") ? options.Get("target-column", string.Empty) : null;
        bool byIndex = int.TryParse(target, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index);
        var csv = new CsvOptions
        {
            HasHeader = options.Has("header") || (target is not null && !byIndex),
            LabelColumn = byIndex ? index : null,
            LabelColumnName = target is not null && !byIndex ? target : null,
        };
        var data = RegressionDataSet.LoadCsv(path, csv);
        ScaleSettings.Require(data.Count >= 2, $"--csv {path} has {data.Count} rows; at least 2 are needed.");
        var (train, test) = data.Split(1 - testFraction, settings.Seed);
        var scaler = FeatureScaler.Fit(train.Features);
        x = scaler.Transform(train.Features).Map(T.CreateTruncating);
        xTest = scaler.Transform(test.Features).Map(T.CreateTruncating);
        y = Matrix<T>.Build.Dense(train.Count, 1, (i, _) => T.CreateTruncating(train.Targets[i]));
        yTest = Matrix<T>.Build.Dense(test.Count, 1, (i, _) => T.CreateTruncating(test.Targets[i]));
        source = $"{Path.GetFileName(path)}: {train.Count} training and {test.Count} test rows, d = {x.ColumnCount}";
    }
    else
    {
        int n = Int(options, "n", 20_000), d = Int(options, "d", 50);
        int nTest = options.Has("n-test") ? Int(options, "n-test", 0) : (int)Math.Max(1, Math.Round(n * testFraction / (1 - testFraction)));
        ScaleSettings.Require(nTest >= 1, $"--n-test must be at least 1, not {nTest}.");
        (x, y) = ScaleRun.Planted<T>(n, d, settings.Seed, stream: 0);
        (xTest, yTest) = ScaleRun.Planted<T>(nTest, d, settings.Seed, stream: 1);
        source = $"planted problem (3 directions): {n} training and {nTest} test rows, d = {d}";
    }

    if (!json)
    {
        string how = settings.Solver switch
        {
            ScaleSolver.Exact => "exact RFM",
            ScaleSolver.Nystrom => $"Nyström RFM, {settings.Centres} centres",
            _ => $"RFM tree, leaves of at most {settings.LeafSize} rows ({(settings.LeafSolver == ScaleSolver.Nystrom ? $"Nyström, {settings.Centres} centres" : "exact")})",
        };
        Console.WriteLine($"{source}; {how}, {settings.Iterations} rounds, {typeof(T).Name}, on {backend.Name}.");
        if (settings.Solver != ScaleSolver.Tree)
        {
            Console.WriteLine(ScaleReport.Header);
        }
    }

    var bar = new ScaleProgress(settings.Iterations);
    if (settings.Solver != ScaleSolver.Tree)
    {
        bar.Round(-1);
    }

    ScaleRun.Fit(
        settings, x, y, xTest, yTest, backend,
        report =>
        {
            bar.Clear();
            Console.WriteLine(json ? report.ToJson(x.RowCount, x.ColumnCount, settings.KernelLabel) : report.ToRow());
            if (report.Round >= 0)
            {
                bar.Round(report.Round);
            }
        },
        bar.Solver,
        bar.Leaf,
        backend is FeatureLearning.Backends.Ilgpu.IlgpuBackend device ? () => device.PeakBytesInUse : null);
}

static ScaleSolver ParseSolver(string value, string option, bool allowTree) => value.ToUpperInvariant() switch
{
    "EXACT" => ScaleSolver.Exact,
    "NYSTROM" or "NYSTRÖM" => ScaleSolver.Nystrom,
    "TREE" when allowTree => ScaleSolver.Tree,
    _ => throw new ArgumentException($"{option} must be {(allowTree ? "exact, nystrom or tree" : "exact or nystrom")}, not '{value}'."),
};

static int Int(SampleOptions options, string name, int fallback)
{
    try
    {
        return options.Get(name, fallback);
    }
    catch (Exception e) when (e is FormatException or OverflowException)
    {
        throw new ArgumentException($"--{name} must be an integer, not '{options.Get(name, string.Empty)}'.", e);
    }
}

static double Double(SampleOptions options, string name, double fallback)
{
    try
    {
        return options.Get(name, fallback);
    }
    catch (FormatException e)
    {
        throw new ArgumentException($"--{name} must be a number, not '{options.Get(name, string.Empty)}'.", e);
    }
}

/// <summary>The progress bar on standard error: the CG residual of the running Nyström solve, else rounds or leaves done.</summary>
internal sealed class ScaleProgress(int rounds)
{
    private const int Width = 30;
    private readonly bool enabled = !Console.IsErrorRedirected;
    private bool shown;

    /// <summary>After a CG iteration: the bar fills as log10 of the residual falls from 1 to 1e-7.</summary>
    public void Solver(SolverProgress p)
    {
        double fraction = p.RelativeResidual > 0 ? Math.Clamp(-Math.Log10(p.RelativeResidual) / 7, 0, 1) : 1;
        Show(fraction, FormattableString.Invariant($"round {p.Round}: CG {p.Iteration}/{p.MaxIterations}, residual {p.RelativeResidual:0.00e+00}"));
    }

    /// <summary>Before the first round (−1) and after each round's report: the rounds done.</summary>
    public void Round(int round)
    {
        if (round + 1 < rounds)
        {
            Show((round + 1.0) / rounds, $"round {round + 1} of rounds 0–{rounds - 1} running");
        }
    }

    /// <summary>After a split or a leaf of the tree.</summary>
    public void Leaf(RfmTreeProgress p)
    {
        if (p.Stage == RfmTreeStage.Leaf)
        {
            Show((double)p.Completed / p.Leaves, $"leaf {p.Completed} of {p.Leaves} fitted ({p.Rows} rows)");
        }
        else
        {
            Show(0, $"split {p.Completed} ({p.Rows} rows)");
        }
    }

    /// <summary>Erases the bar before a line goes to standard output.</summary>
    public void Clear()
    {
        if (enabled && shown)
        {
            Console.Error.Write($"\r{new string(' ', Width + 70)}\r");
            shown = false;
        }
    }

    private void Show(double fraction, string text)
    {
        if (!enabled)
        {
            return;
        }

        int filled = (int)Math.Round(Width * fraction);
        Console.Error.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {text,-60}");
        shown = true;
    }
}
