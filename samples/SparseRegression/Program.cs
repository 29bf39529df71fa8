// Sparse linear regression by diagonal lin-RFM (IRLS with p = 2 - 4 alpha) on a planted problem.
//
//   dotnet run -c Release --project samples/SparseRegression -- [--samples 200] [--features 1000] [--nonzeros 10]
//       [--alpha 0.5] [--ridge 1e-10] [--iterations 100] [--seed 0] [--backend managed] [--precision double|float] [--out sparse-output] [--json]
using System.Globalization;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.LinearRfm;
using FeatureLearning.Samples;

var options = new SampleOptions(args);
int n = options.Get("samples", 200), d = options.Get("features", 1000), k = options.Get("nonzeros", 10);
bool json = options.Has("json");
var log = json ? TextWriter.Null : Console.Out;
using var backend = options.Backend();
log.WriteLine($"Backend: {backend.Describe()}");
var (x, y, w) = PlantedProblems.SparseRegression(n, d, k, options.Get("seed", 0));
log.WriteLine($"Planted: {k}-sparse w in d = {d} from n = {n} Gaussian samples.");
var regression = new SparseRegression(new SparseRegressionOptions
{
    Alpha = options.Get("alpha", 0.5),
    Ridge = options.Get("ridge", 1e-10),
    MaxIterations = options.Get("iterations", 100),
    Backend = backend,
});
log.WriteLine($"lin-RFM: alpha {regression.Options.Alpha} (IRLS-p with p = {2 - (4 * regression.Options.Alpha):G3}), ridge {regression.Options.Ridge}.");
log.WriteLine(" iter | train MSE   | relative error of w | seconds");
bool single = options.Precision() == Precision.Single;
MathNet.Numerics.LinearAlgebra.Vector<double> weights;
IReadOnlyList<LinearRfmIteration> history;
if (single)
{
    var model = regression.Fit(x.Map(v => (float)v), y.Map(v => (float)v), w.Map(v => (float)v), new Progress(json, log));
    (weights, history) = (model.Weights.Map(v => (double)v), model.History);
}
else
{
    var model = regression.Fit(x, y, w, new Progress(json, log));
    (weights, history) = (model.Weights, model.History);
}

double relative = (weights - w).L2Norm() / w.L2Norm();
log.WriteLine($"Relative error of the recovered w ({(single ? "float" : "double")}): {relative:E2} after {history.Count} iterations.");

string outDir = options.Get("out", "sparse-output");
Directory.CreateDirectory(outDir);
var plot = new ScottPlot.Plot();
var series = plot.Add.Scatter(history.Select(h => (double)h.Iteration).ToArray(), history.Select(h => 0.5 * Math.Log10(Math.Max(h.RelativeWeightError, 1e-300))).ToArray());
series.LegendText = "log10 relative error of w";
plot.Title($"diagonal lin-RFM, {k}-sparse w, d = {d}, n = {n}");
plot.XLabel("iteration");
plot.YLabel("log10 ‖w - w*‖ / ‖w*‖");
plot.SavePng(Path.Combine(outDir, "error.png"), 800, 500);
log.WriteLine($"Plot written to {Path.GetFullPath(outDir)}.");
return 0;

internal sealed class Progress(bool json, TextWriter log) : IProgress<LinearRfmIteration>
{
    public void Report(LinearRfmIteration value)
    {
        double relative = Math.Sqrt(value.RelativeWeightError);
        if (json)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"iteration\":{value.Iteration},\"train_mse\":{value.TrainMse:R},\"relative_error\":{relative:R},\"seconds\":{value.Seconds:R}}}"));
        }
        else
        {
            log.WriteLine($" {value.Iteration,4} | {value.TrainMse,11:E2} | {relative,19:E2} | {value.Seconds,7:F3}");
        }
    }
}
