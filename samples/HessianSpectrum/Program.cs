// Sharpness and the loss-Hessian spectrum of a network trained by full-batch GD on the UCI digits (Cohen et al. 2021,
// "edge of stability"): the top eigenvalue of the loss Hessian (Lanczos on exact Hessian-vector products) rises during
// training until it reaches 2/η and hovers there (with the defaults it starts above 2/η, falls below it in the first
// steps, then sharpens back to 2/η); the spectral density of the Hessian (stochastic Lanczos quadrature) at
// initialisation and at the end shows the few outliers that carry it. Next to it, the tangent kernel: its top eigenvalue
// in the loss's normalisation (Θ/m, the Gauss–Newton matrix's top eigenvalue), condition number and relative movement
// ‖Θ_t − Θ_0‖_F/‖Θ_0‖_F on the first --kernel-samples training points.
//
//   dotnet run -c Release --project samples/HessianSpectrum -- [--samples 300] [--width 64] [--depth 1] [--lr 20]
//       [--steps 300] [--interval 10] [--kernel-samples 40] [--seed 0] [--out hessian-spectrum-output] [--json]
//
// Data: --samples digits (stratified, seed), features standardised, one-hot targets, MSE L = (1/2n)Σ‖f − y‖². Network:
// --depth hidden tanh layers of --width units, NTK parameterisation. Per recorded step (--json: one object per line)
// step, loss, sharpness, two_over_eta, ntk_top, ntk_condition, kernel_movement, effective_rank_layer0 (the entropy
// effective rank of W₀ − W₀(0)); then the densities' summary and the plots density.png and sharpness.png.
using System.Globalization;
using FeatureLearning.Diagnostics;
using FeatureLearning.Samples;
using FeatureLearning.Samples.HessianSpectrum;
using static FeatureLearning.Samples.LinePlots;

var options = new SampleOptions(args);
int samples = options.Get("samples", 300), width = options.Get("width", 64), depth = options.Get("depth", 1), steps = options.Get("steps", 300);
int interval = options.Get("interval", 10), kernelSamples = options.Get("kernel-samples", 40), seed = options.Get("seed", 0);
double eta = options.Get("lr", 20.0);
bool json = options.Has("json");
using var backend = options.Backend();

var bar = new ProgressBar((steps / interval) + 1 + ((steps % interval) == 0 ? 0 : 1));
var outcome = HessianSpectrumRun.Run(samples, width, depth, eta, steps, interval, kernelSamples, seed, backend, record =>
{
    bar.Step();
    Console.WriteLine(json
        ? $"{{\"step\":{record.Step},\"loss\":{Json(record.Loss)},\"sharpness\":{Json(record.Sharpness!.Value)},\"two_over_eta\":{Json(record.TwoOverEta)},\"ntk_top\":{Json(record.NtkTop!.Value)},\"ntk_condition\":{Json(record.NtkCondition!.Value)},\"kernel_movement\":{Json(record.KernelMovement!.Value)},\"effective_rank_layer0\":{Json(record.EffectiveRanks![0])}}}"
        : FormattableString.Invariant($"step {record.Step,5}: loss {record.Loss,10:G5}  sharpness {record.Sharpness,9:G5} (2/η = {record.TwoOverEta:G4})  NTK top {record.NtkTop,9:G5}  κ {record.NtkCondition,9:G4}  movement {record.KernelMovement,8:G4}  erank(ΔW₀) {record.EffectiveRanks![0],6:F2}"));
});
var run = outcome.Run;
using var trained = run.Training.Network;
if (!json)
{
    Console.WriteLine(FormattableString.Invariant($"digits: n = {outcome.SampleCount}, {depth} tanh layer(s) of {width} (P = {outcome.ParameterCount}); GD, η = {eta} (2/η = {2 / eta:G4}), {steps} steps"));
}

if (outcome.FinalDensity is not { } finalDensity)
{
    Console.WriteLine(json ? "{\"diverged\":true}" : "GD diverged (a loss that is not finite): lower --lr.");
    return 1;
}

var initialDensity = outcome.InitialDensity;
double Top(SpectralDensityResult d) => d.Nodes.Max();
Console.WriteLine(json
    ? $"{{\"density_init_top_node\":{Json(Top(initialDensity))},\"density_final_top_node\":{Json(Top(finalDensity))},\"density_products\":{initialDensity.Products + finalDensity.Products},\"catapult\":{(run.Catapult!.IsCatapult ? "true" : "false")},\"final_loss\":{Json(run.Training.FinalLoss)}}}"
    : FormattableString.Invariant($"Hessian density: largest quadrature node {Top(initialDensity):G5} at init, {Top(finalDensity):G5} at the end; catapult detected: {run.Catapult!.IsCatapult}; final loss {run.Training.FinalLoss:G5}"));

string outDir = options.Get("out", "hessian-spectrum-output");
Directory.CreateDirectory(outDir);
var t = run.Records.Select(r => (double)r.Step).ToArray();
string title = FormattableString.Invariant($"digits, n = {outcome.SampleCount}, width {width}, η = {eta}");
string[] paths =
[
    SaveLines(Path.Combine(outDir, "density.png"), title, "eigenvalue of the loss Hessian", "log10 density (SLQ)",
        [("init", initialDensity.Grid.ToArray(), LogDensity(initialDensity)), ("end", finalDensity.Grid.ToArray(), LogDensity(finalDensity))]),
    SaveLines(Path.Combine(outDir, "sharpness.png"), title, "step", "eigenvalue",
        [("sharpness λ_max(∇²L)", t, run.Records.Select(r => r.Sharpness!.Value).ToArray()), ("2/η", [0, t[^1]], [2 / eta, 2 / eta]), ("NTK top (Θ/m)", t, run.Records.Select(r => r.NtkTop!.Value).ToArray())]),
];
foreach (string path in paths)
{
    Console.WriteLine(json ? PlotLine(path) : $"Plot written to {Path.GetFullPath(path)}");
}

return 0;

static double[] LogDensity(SpectralDensityResult d) => d.Density.Select(v => Math.Log10(Math.Max(v, 1e-12))).ToArray();
