// Low-rank matrix completion by lin-RFM on a planted problem (Radhakrishnan, Belkin, Drusvyatskiy).
//
//   dotnet run -c Release --project samples/MatrixCompletion -- [--rows 500] [--cols 500] [--rank 5] [--observed 10000]
//       [--alpha 1] [--ridge 0.05] [--ridge-decay 0.1] [--ridge-decay-below 0] [--minimum-ridge 1e-4] [--patience 100]
//       [--min-improvement 0.05] [--tolerance 1e-4] [--held-out 0.02] [--refit 1] [--iterations 5000] [--target 0]
//       [--seed 0] [--backend managed] [--precision double|float] [--out completion-output] [--json] [--help]
//   (the defaults are those of MatrixCompletionOptions)
//
// Prints the held-out error (on 2% of the observed entries, kept out of the fit until a last refit) and the error on every unobserved
// entry per iteration, then plots both and the recovered singular values against the truth.
using System.Diagnostics;
using System.Globalization;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.LinearRfm;
using FeatureLearning.Samples;
using MathNet.Numerics.LinearAlgebra;

var options = new SampleOptions(args);
if (options.Has("help"))
{
    Console.WriteLine("""
        Low-rank matrix completion by lin-RFM on a planted problem.
        dotnet run -c Release --project samples/MatrixCompletion -- [--rows 500] [--cols 500] [--rank 5] [--observed 10000]
            [--alpha 1] [--ridge 0.05] [--ridge-decay 0.1] [--ridge-decay-below 0] [--minimum-ridge 1e-4] [--patience 100]
            [--min-improvement 0.05] [--tolerance 1e-4] [--held-out 0.02] [--refit 1] [--iterations 5000] [--target 0]
            [--seed 0] [--backend managed|native|ilgpu] [--precision double|float] [--out completion-output] [--json]
        The defaults are those of MatrixCompletionOptions: the ridge is lowered x0.1 whenever the held-out error stops
        falling by 5% per 50 iterations (a plateau over a window of 100), the fit stops on a plateau at the smallest ridge or
        once the held-out MSE is 1e-4 of the observed values' mean square, and a last step refits with the held-out entries.
        """);
    return 0;
}

int rows = options.Get("rows", 500), cols = options.Get("cols", 500), rank = options.Get("rank", 5), observedCount = options.Get("observed", 10000);
bool json = options.Has("json");
var log = json ? TextWriter.Null : Console.Out;
string outDir = options.Get("out", "completion-output");
using var backend = options.Backend();
log.WriteLine($"Backend: {backend.Describe()}");

var (truth, observed) = PlantedProblems.LowRank(rows, cols, rank, observedCount, options.Get("seed", 0));
log.WriteLine($"Planted: {rows} x {cols}, rank {rank}, {observedCount} observed entries ({100.0 * observedCount / ((double)rows * cols):F2}%), {(long)rows * cols - observedCount} missing.");
var defaults = new MatrixCompletionOptions();
var completionOptions = new MatrixCompletionOptions
{
    Alpha = options.Get("alpha", defaults.Alpha),
    Ridge = options.Get("ridge", defaults.Ridge),
    MaxIterations = options.Get("iterations", defaults.MaxIterations),
    TargetHeldOutMse = options.Get("target", defaults.TargetHeldOutMse),
    RelativeTolerance = options.Get("tolerance", defaults.RelativeTolerance),
    RidgeDecay = options.Get("ridge-decay", defaults.RidgeDecay),
    RidgeDecayBelow = options.Get("ridge-decay-below", defaults.RidgeDecayBelow),
    MinimumRidge = options.Get("minimum-ridge", defaults.MinimumRidge),
    Patience = options.Get("patience", defaults.Patience),
    MinimumRelativeImprovement = options.Get("min-improvement", defaults.MinimumRelativeImprovement),
    HeldOutFraction = options.Get("held-out", defaults.HeldOutFraction),
    RefitWithHeldOut = options.Get("refit", defaults.RefitWithHeldOut ? 1 : 0) != 0,
    Backend = backend,
};
log.WriteLine($"lin-RFM: alpha {completionOptions.Alpha}, ridge {completionOptions.Ridge} (x{completionOptions.RidgeDecay} on a plateau, down to {Math.Min(completionOptions.Ridge, completionOptions.MinimumRidge)}), up to {completionOptions.MaxIterations} iterations, plateau window {completionOptions.Patience} (less than {completionOptions.MinimumRelativeImprovement:P0} better), tolerance {completionOptions.RelativeTolerance:G3} x mean square.");

var progress = new Reporter(json, completionOptions.MaxIterations);
var clock = Stopwatch.StartNew();
var estimator = new MatrixCompletion(completionOptions);
bool single = options.Precision() == Precision.Single;
var (completed, history, selected) = single
    ? Unpack(estimator.Fit(observed, truth.Map(v => (float)v), progress))
    : Unpack(estimator.Fit(observed, truth, progress));
double seconds = clock.Elapsed.TotalSeconds;
var best = history[selected];
log.WriteLine();
double bestHeldOut = history.Where(h => !double.IsNaN(h.HeldOutMse)).Select(h => h.HeldOutMse).DefaultIfEmpty(double.NaN).Min();
log.WriteLine($"Selected iteration {selected} ({(single ? "float" : "double")}{(double.IsNaN(best.HeldOutMse) && !double.IsNaN(bestHeldOut) ? ", the refit with the held-out entries" : string.Empty)}): best held-out MSE {bestHeldOut:G3}, MSE on the unobserved entries {best.UnobservedMse:G3}; {history.Count} iterations in {seconds:F1} s ({seconds / history.Count:F3} s each).");

int firstBelow = history.ToList().FindIndex(h => h.UnobservedMse < 1e-3);
log.WriteLine(firstBelow < 0
    ? "The MSE on the unobserved entries never fell below 1e-3."
    : $"First iteration with an MSE on the unobserved entries below 1e-3: {firstBelow} (the fit ran {history.Count} records, the last ridge {history[^1].Ridge:G3}).");

// Singular values through MathNet's managed SVD: only for matrices up to a million entries (larger ones take minutes).
bool small = (long)rows * cols <= 1_000_000;
var recovered = small ? completed.Svd(computeVectors: false).S.Take(Math.Min(2 * rank, Math.Min(rows, cols))).ToArray() : [];
var expected = small ? truth.Svd(computeVectors: false).S.Take(recovered.Length).ToArray() : [];
log.WriteLine(small
    ? "Singular values, recovered vs truth: " + string.Join(", ", recovered.Zip(expected, (r, t) => string.Create(CultureInfo.InvariantCulture, $"{r:F3}/{t:F3}")))
    : "Singular values skipped: the matrix has more than a million entries.");

Directory.CreateDirectory(outDir);
var iters = history.Select(h => (double)h.Iteration).ToArray();
var plot = new ScottPlot.Plot();
var heldSeries = plot.Add.Scatter(iters, history.Select(h => Math.Log10(h.HeldOutMse)).ToArray());
heldSeries.LegendText = "log10 held-out MSE";
var testSeries = plot.Add.Scatter(iters, history.Select(h => Math.Log10(h.UnobservedMse)).ToArray());
testSeries.LegendText = "log10 MSE on unobserved entries";
plot.Title($"lin-RFM completion, {rows}x{cols} rank {rank}, alpha {completionOptions.Alpha}");
plot.XLabel("iteration");
plot.YLabel("log10 MSE");
plot.ShowLegend();
plot.SavePng(Path.Combine(outDir, "error.png"), 800, 500);
if (small)
{
var sv = new ScottPlot.Plot();
var index = Enumerable.Range(1, recovered.Length).Select(i => (double)i).ToArray();
var svTruth = sv.Add.Scatter(index, expected);
svTruth.LegendText = "truth";
var svFit = sv.Add.Scatter(index, recovered);
svFit.LegendText = "recovered";
sv.Title("singular values");
sv.XLabel("index");
sv.ShowLegend();
sv.SavePng(Path.Combine(outDir, "singular_values.png"), 700, 450);
}

log.WriteLine($"Plots written to {Path.GetFullPath(outDir)}.");
return 0;

static (Matrix<double> Completed, IReadOnlyList<LinearRfmIteration> History, int Selected) Unpack<T>(MatrixCompletionModel<T> model)
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    => (model.Completed.Map(v => double.CreateTruncating(v)), model.History, model.SelectedIteration);

/// <summary>Progress bar (stderr) or one JSON object per iteration (stdout).</summary>
internal sealed class Reporter(bool json, int iterations) : IProgress<LinearRfmIteration>
{
    public void Report(LinearRfmIteration value)
    {
        if (json)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"iteration\":{value.Iteration},\"heldout_mse\":{value.HeldOutMse:R},\"unobserved_mse\":{value.UnobservedMse:R},\"train_mse\":{value.TrainMse:R},\"ridge\":{value.Ridge:R},\"seconds\":{value.Seconds:R}}}"));
        }
        else if (!Console.IsErrorRedirected)
        {
            Console.Error.Write($"\riteration {value.Iteration} of 0–{iterations - 1}: held-out MSE {value.HeldOutMse:E2}, unobserved MSE {value.UnobservedMse:E2}, {value.Seconds:F3} s   ");
        }
    }
}
