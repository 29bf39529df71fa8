// The transition to linearity: the spectral norm of the output Hessian ∇²_w f at init against the width m, for a fully
// connected network in the NTK parameterisation (σ_w = 1, σ_b = 0, one output) and one input with ‖x‖² = d.
//
//   dotnet run -c Release --project samples/TransitionToLinearity -- [--widths 64,128,256,512,1024] [--depth 1|2]
//       [--activation relu|tanh] [--seeds 3] [--seed 0] [--d 10] [--lanczos 40] [--out linearity-output] [--json]
//
// One line per width: width, hessian_norm and gradient_norm (means over the seeds), then {"slope": …}, the least-squares
// slope of log ‖∇²f‖ against log m (−1/2 in theory), and hessian_norm.png (log–log, with 1/√m). For one hidden ReLU
// layer ‖∇²f‖ = 1/√m exactly.
using System.Globalization;
using FeatureLearning.Networks;
using FeatureLearning.Samples;
using FeatureLearning.Samples.TransitionToLinearity;
using static FeatureLearning.Samples.LinePlots;

var options = new SampleOptions(args);
int[] widths = options.Get("widths", "64,128,256,512,1024").Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray();
int depth = options.Get("depth", 1), seeds = options.Get("seeds", 3), seed0 = options.Get("seed", 0), d = options.Get("d", 10), lanczos = options.Get("lanczos", 40);
var activation = options.Get("activation", "relu").ToUpperInvariant() switch
{
    "RELU" => Activation.Relu,
    "TANH" => Activation.Tanh,
    var a => throw new ArgumentException($"--activation must be relu or tanh, not '{a}'."),
};
if (seeds < 1 || widths.Length < 2 || widths.Any(w => w < 1))
{
    throw new ArgumentException("--seeds must be at least 1 and --widths must list at least two positive widths.");
}

bool json = options.Has("json");
var backend = options.Backend();
var bar = new ProgressBar(widths.Length * seeds);
var hessian = new double[widths.Length];
var gradient = new double[widths.Length];
for (int i = 0; i < widths.Length; i++)
{
    var runs = Enumerable.Range(seed0, seeds).Select(s =>
    {
        var r = HessianScaling.Measure(widths[i], depth, activation, d, s, lanczos, backend);
        bar.Step();
        return r;
    }).ToArray();
    hessian[i] = runs.Average(r => r.HessianNorm);
    gradient[i] = runs.Average(r => r.GradientNorm);
    double spread = runs.Max(r => r.HessianNorm) - runs.Min(r => r.HessianNorm);
    Console.WriteLine(json
        ? $"{{\"width\":{widths[i]},\"hessian_norm\":{Json(hessian[i])},\"gradient_norm\":{Json(gradient[i])},\"hessian_norm_times_sqrt_width\":{Json(hessian[i] * Math.Sqrt(widths[i]))},\"hessian_norm_spread\":{Json(spread)},\"depth\":{depth},\"activation\":\"{activation.Name}\",\"seeds\":{seeds},\"d\":{d}}}"
        : FormattableString.Invariant($"m = {widths[i],6}: ‖∇²f‖ = {hessian[i]:G6} (√m·‖∇²f‖ = {hessian[i] * Math.Sqrt(widths[i]):G6}, spread over seeds {spread:G3}), ‖∇f‖ = {gradient[i]:G6}"));
}

double slope = HessianScaling.LogLogSlope(widths.Select(w => (double)w).ToArray(), hessian);
Console.WriteLine(json ? $"{{\"slope\":{Json(slope)}}}" : FormattableString.Invariant($"log–log slope of ‖∇²f‖ against m: {slope:G6} (theory −0.5)"));

string outDir = options.Get("out", "linearity-output");
Directory.CreateDirectory(outDir);
var logM = widths.Select(w => Math.Log10(w)).ToArray();
string path = SaveLines(Path.Combine(outDir, "hessian_norm.png"), $"‖∇²f‖ at init, {activation.Name}, depth {depth}", "log10 width", "log10 norm",
[
    ("‖∇²f‖", logM, hessian.Select(Math.Log10).ToArray()),
    ("1/√m", logM, widths.Select(w => -0.5 * Math.Log10(w)).ToArray()),
    ("‖∇f‖", logM, gradient.Select(Math.Log10).ToArray()),
]);
Console.WriteLine(json ? PlotLine(path) : $"Plot written to {Path.GetFullPath(path)}");
return 0;
