// Grokking modular arithmetic with a Recursive Feature Machine (Mallinar et al., "Emergence in non-neural
// models: grokking modular arithmetic via average gradient outer product", 2024).
//
//   dotnet run -c Release --project samples/Grokking -- [--modulus 61] [--operation add|sub|mul|div]
//       [--train-fraction 0.5] [--iterations 30] [--seed 0] [--backend managed] [--out grokking-output] [--json]
//       [--bandwidth 2.5] [--ridge 0] [--precision double] [--warmup] [--agop-form auto|direct|gram|sparse]
//       [--time-split]
//
// --warmup fits once first, untimed, so that the timed fit runs warm (the JIT and, on a GPU, the kernels compiled);
// the warm-up's own wall time is printed (in --json, a line {"warmup_seconds": …} before the rounds).
// --agop-form forces one AGOP formula (default auto, which takes the sparse direct form for these one-hot inputs);
// every form gives the same AGOP up to rounding, so the rounds differ only in agop_seconds.
// On the ILGPU backend the warm-up line and a line after the rounds carry the backend's counters (kernel compilation,
// launches, library calls, host-device copies: IlgpuTimings). --time-split then fits once more with
// IlgpuBackend.SplitTimings on (a synchronization after every launch), which splits that fit's time into compilation,
// launches, device compute, transfers and the rest (host code), printed as one more line; the timed fit above it is
// unaffected.
//
// Reference setting: Gaussian kernel L = 2.5, ridge 0 (the Cholesky jitter retry keeps the solve defined),
// M <- AGOP^(1/2) without normalisation, centred gradients. Test accuracy stays near chance (1/p) for the first
// rounds, then jumps to 100% as M becomes block-circulant; the circulant deviation falls and the alignment with
// the final M rises before it does.
using System.Diagnostics;
using System.Globalization;
using FeatureLearning.Backends.Ilgpu;
using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Samples;
using MathNet.Numerics.LinearAlgebra;

var options = new SampleOptions(args);
int p = options.Get("modulus", 61);
var operation = options.Get("operation", "add").ToUpperInvariant() switch
{
    "ADD" or "+" => ModularOperation.Add,
    "SUB" or "-" => ModularOperation.Subtract,
    "MUL" or "*" => ModularOperation.Multiply,
    "DIV" or "/" => ModularOperation.Divide,
    var op => throw new ArgumentException($"--operation must be add, sub, mul or div, not '{op}'."),
};
double trainFraction = options.Get("train-fraction", 0.5);
int iterations = options.Get("iterations", 30);
int seed = options.Get("seed", 0);
bool json = options.Has("json");
string outDir = options.Get("out", "grokking-output");
using var backend = options.Backend();
var log = json ? TextWriter.Null : Console.Out;

var task = ModularArithmetic.Create(p, operation);
var (train, test) = task.Split(trainFraction, seed);
log.WriteLine($"Backend: {backend.Describe()}");
log.WriteLine($"Task: a {Symbol(operation)} b mod {p}: {task.Count} pairs, {train.Length} train / {test.Length} test (seed {seed}); chance accuracy {1.0 / p:P1}.");

var agopForm = options.Get("agop-form", "auto").ToUpperInvariant() switch
{
    "AUTO" => AgopForm.Auto,
    "DIRECT" => AgopForm.Direct,
    "GRAM" => AgopForm.Gram,
    "SPARSE" => AgopForm.SparseDirect,
    var form => throw new ArgumentException($"--agop-form must be auto, direct, gram or sparse, not '{form}'."),
};

var rfmOptions = RfmOptions.Grokking(iterations) with
{
    AgopForm = agopForm,
    Kernel = new GaussianKernel(options.Get("bandwidth", 2.5)),
    Ridge = options.Get("ridge", 0.0),
    Backend = backend,
    RecordFeatureMatrices = true,
    SelectBy = SelectionMetric.Accuracy,
};
log.WriteLine($"RFM: {rfmOptions.Kernel.Name}, ridge {rfmOptions.Ridge}, M <- AGOP^{rfmOptions.AgopPower}, normalisation {rfmOptions.Normalization}, centred gradients, AGOP form {agopForm}, {iterations} rounds.");
log.WriteLine();

var device = backend as IlgpuBackend;
if (options.Has("warmup"))
{
    // The same fit once, untimed and unreported: compilation (JIT, GPU kernels) and first-touch allocations happen here.
    device?.ResetTimings();
    var warm = Stopwatch.StartNew();
    _ = Fit(rfmOptions with { RecordFeatureMatrices = false }, null);
    double warmSeconds = warm.Elapsed.TotalSeconds;
    if (json)
    {
        Console.WriteLine($"{{\"warmup_seconds\":{Json(warmSeconds)}{(device is null ? string.Empty : $",\"device_timings\":{device.Timings.ToJson()}")}}}");
    }
    else
    {
        log.WriteLine($"Warm-up fit (untimed below; includes compilation): {warmSeconds:F2} s.");
        if (device is not null)
        {
            log.WriteLine($"  device: {device.Timings}");
        }
    }
}

device?.ResetTimings();
var clock = Stopwatch.StartNew();
var model = Fit(rfmOptions, new ConsoleProgress());
double totalSeconds = clock.Elapsed.TotalSeconds;
var fitTimings = device?.Timings;

// Progress measures of every M_t against the final M.
var final = model.FeatureMatrixHistory[^1];
var rows = model.History.Select((h, t) => new
{
    Iteration = t,
    h.TrainAccuracy,
    TestAccuracy = h.ValidationAccuracy,
    TestMse = h.ValidationMse,
    Deviation = GrokkingMeasures.CirculantDeviation(model.FeatureMatrixHistory[t], p, operation),
    Alignment = GrokkingMeasures.Alignment(model.FeatureMatrixHistory[t], final),
    h.Jitter,
    h.Seconds,
    h.KernelSeconds,
    h.SolveSeconds,
    h.AgopSeconds,
}).ToList();

if (json)
{
    foreach (var r in rows)
    {
        Console.WriteLine(
            $"{{\"iteration\":{r.Iteration},\"train_accuracy\":{Json(r.TrainAccuracy)},\"test_accuracy\":{Json(r.TestAccuracy)},\"test_mse\":{Json(r.TestMse)}," +
            $"\"circulant_deviation\":{Json(r.Deviation)},\"agop_alignment\":{Json(r.Alignment)},\"jitter\":{Json(r.Jitter)},\"seconds\":{Json(r.Seconds)}," +
            $"\"kernel_seconds\":{Json(r.KernelSeconds)},\"solve_seconds\":{Json(r.SolveSeconds)},\"agop_seconds\":{Json(r.AgopSeconds)}}}");
    }
}
else
{
    Console.WriteLine(" iter | train acc | test acc | test MSE  | circ. dev | alignment | jitter   | seconds");
    Console.WriteLine("------+-----------+----------+-----------+-----------+-----------+----------+--------");
    foreach (var r in rows)
    {
        string deviation = double.IsNaN(r.Deviation) ? "-" : r.Deviation.ToString("F4", CultureInfo.InvariantCulture);
        Console.WriteLine($" {r.Iteration,4} | {r.TrainAccuracy,9:P1} | {r.TestAccuracy,8:P1} | {r.TestMse,9:G4} | {deviation,9} | {r.Alignment,9:F4} | {r.Jitter,8:G2} | {r.Seconds,6:F3}");
    }

    Console.WriteLine();
    Console.WriteLine($"Final test accuracy {rows[^1].TestAccuracy:P2}; RFM time {model.History.Sum(h => h.Seconds):F2} s (kernel {model.History.Sum(h => h.KernelSeconds):F2}, solve {model.History.Sum(h => h.SolveSeconds):F2}, AGOP {model.History.Sum(h => h.AgopSeconds):F2}); wall clock {totalSeconds:F2} s.");
    if (fitTimings is not null)
    {
        Console.WriteLine($"Device: {fitTimings}.");
    }
}

if (json && fitTimings is not null)
{
    Console.WriteLine($"{{\"fit_seconds\":{Json(totalSeconds)},\"device_timings\":{fitTimings.ToJson()}}}");
}

if (options.Has("time-split"))
{
    if (device is null)
    {
        log.WriteLine("--time-split: the backend is not ILGPU; nothing to split.");
    }
    else
    {
        // Once more, synchronizing after every launch: compile + launch + compute + transfer + host = the fit's wall time.
        device.ResetTimings();
        device.SplitTimings = true;
        var splitClock = Stopwatch.StartNew();
        var split = Fit(rfmOptions with { RecordFeatureMatrices = false }, null);
        double splitSeconds = splitClock.Elapsed.TotalSeconds;
        var t = device.Timings;
        device.SplitTimings = false;
        double host = splitSeconds - t.BackendSeconds;
        if (json)
        {
            Console.WriteLine($"{{\"time_split\":{t.ToJson()},\"fit_seconds\":{Json(splitSeconds)},\"rounds_seconds\":{Json(split.History.Sum(h => h.Seconds))},\"host_seconds\":{Json(host)}}}");
        }
        else
        {
            Console.WriteLine($"Time split (a fit with a synchronization after every launch, {splitSeconds:F3} s): {t}, host {host:F3} s.");
        }
    }
}

Directory.CreateDirectory(outDir);
var iters = rows.Select(r => (double)r.Iteration).ToArray();
SaveLines(Path.Combine(outDir, "accuracy.png"), $"a {Symbol(operation)} b mod {p}: accuracy", "accuracy",
    ("train accuracy", iters, rows.Select(r => r.TrainAccuracy).ToArray()), ("test accuracy", iters, rows.Select(r => r.TestAccuracy).ToArray()));
SaveLines(Path.Combine(outDir, "progress_measures.png"), "progress measures", "value",
    ("test accuracy", iters, rows.Select(r => r.TestAccuracy).ToArray()),
    ("circulant deviation", iters, rows.Select(r => r.Deviation).ToArray()),
    ("alignment with final M", iters, rows.Select(r => r.Alignment).ToArray()));
SaveHeatmap(Path.Combine(outDir, "feature_matrix.png"), "final M (diagonal removed)", final, "input coordinate (a: 0..p-1, b: p..2p-1)");
if (operation != ModularOperation.Add)
{
    bool byLog = operation is ModularOperation.Multiply or ModularOperation.Divide;
    SaveHeatmap(Path.Combine(outDir, "feature_matrix_ordered.png"), $"final M, {(byLog ? "discrete-log order" : "b listed as -b")} (diagonal removed)",
        GrokkingMeasures.Reorder(final, GrokkingMeasures.DisplayOrder(p, operation)),
        byLog ? "position: a as g^k, then b as g^(-k) for div (g^k for mul); 0 last" : "position: a, then b as -b");
}

log.WriteLine($"Plots written to {Path.GetFullPath(outDir)}.");
return 0;

static string Json(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "null";

static string Symbol(ModularOperation op) => op switch
{
    ModularOperation.Add => "+",
    ModularOperation.Subtract => "-",
    ModularOperation.Multiply => "*",
    _ => "/",
};

static void SaveLines(string path, string title, string yLabel, params (string Label, double[] X, double[] Y)[] series)
{
    var plot = new ScottPlot.Plot();
    foreach (var (label, x, y) in series)
    {
        var s = plot.Add.Scatter(x, y);
        s.LegendText = label;
    }

    plot.Title(title);
    plot.XLabel("RFM iteration");
    plot.YLabel(yLabel);
    plot.ShowLegend();
    plot.SavePng(path, 800, 500);
}


// The fit in the precision --precision asks for (double by default); the history and the feature matrices are the same types
// either way.
(IReadOnlyList<RfmIteration> History, IReadOnlyList<Matrix<double>> FeatureMatrixHistory) Fit(RfmOptions o, IProgress<RfmIteration>? progress)
{
    if (options.Precision() == FeatureLearning.Compute.Precision.Single)
    {
        var single = new RecursiveFeatureMachine(o).Fit(
            task.Inputs<float>(train), task.Targets<float>(train), (task.Inputs<float>(test), task.Targets<float>(test)), progress);
        return (single.History, single.FeatureMatrixHistory);
    }

    var m = new RecursiveFeatureMachine(o).Fit(
        task.Inputs<double>(train), task.Targets<double>(train), (task.Inputs<double>(test), task.Targets<double>(test)), progress);
    return (m.History, m.FeatureMatrixHistory);
}

static void SaveHeatmap(string path, string title, Matrix<double> m, string axisLabel)
{
    var data = m.ToArray();
    for (int i = 0; i < m.RowCount; i++)
    {
        data[i, i] = 0; // the diagonal dominates and hides the block structure
    }

    var plot = new ScottPlot.Plot();
    var heatmap = plot.Add.Heatmap(data);
    plot.Add.ColorBar(heatmap);
    plot.Title(title);
    plot.XLabel(axisLabel);
    plot.YLabel(axisLabel);
    plot.Axes.InvertY();
    plot.SavePng(path, 700, 600);
}
