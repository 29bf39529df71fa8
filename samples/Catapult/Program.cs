// The catapult phase of wide networks (Lewkowycz et al. 2020; Zhu et al. 2023, the quadratic model): a two-layer ReLU
// network f = (1/√m) Σ vᵢ relu(uᵢᵀx/√d) (NTK parameterisation, v = ±1), one training point with ‖x‖² = d and y = 1,
// trained by GD on L = ½(f − y)² at η = (ηλ₀)/λ₀, λ₀ = the NTK ‖∇_w f‖² at init (the top eigenvalue of J Jᵀ/n, n = 1).
//
//   dotnet run -c Release --project samples/Catapult -- [--width 4096] [--d 10] [--eta-lambda 2.5] [--steps 300]
//       [--seed 0] [--model network|quadratic|linear] [--out catapult-output] [--json]
//       [--edge --seeds 3 --low 2 --high 20 --grid-step 0.5 --iterations 6]
//
// Per step: step, loss, ntk_top_eigenvalue; then {"outcome": "monotone"|"catapult"|"spike"|"diverged"|"dead",
// "max_loss_ratio": …, "final_lambda_ratio": …, "spike_step": …, "drop_step": …} (and more fields), and loss.png / ntk.png.
// Unless the run diverged or died, the outcome is that of FeatureLearning.Diagnostics.CatapultDetector on the steps:
// "catapult" when the loss rose above L₀ and λ dropped while it was above, "spike" when it rose without a drop of λ. The theory: monotone for ηλ₀ < 2, catapult for
// 2 < ηλ₀ < 4 (the loss grows, λ falls below 2/η, the loss converges; network and quadratic model), divergence above 4
// for the quadratic model and above 2 for the linear one. A fourth outcome, "dead", is a ReLU network whose every unit
// went inactive on x after a large step (λ = 0, f = 0). --edge runs, for --seeds seeds (from --seed), a grid of ηλ₀ from
// --low to --high by --grid-step, then bisects (--iterations) between the last grid point that trains (monotone or
// catapult) and the first that fails (diverged or dead); it prints every trial and, per seed, the edge, the outcome above
// it, the first grid points that diverged and died, and whether some larger ηλ₀ on the grid trains again.
using System.Globalization;
using FeatureLearning.Samples;
using FeatureLearning.Samples.Catapult;
using static FeatureLearning.Samples.LinePlots;

var options = new SampleOptions(args);
int width = options.Get("width", 4096), d = options.Get("d", 10), steps = options.Get("steps", 300), seed = options.Get("seed", 0);
double etaLambda = options.Get("eta-lambda", 2.5);
var model = options.Get("model", "network").ToUpperInvariant() switch
{
    "NETWORK" => CatapultModel.Network,
    "QUADRATIC" => CatapultModel.Quadratic,
    "LINEAR" => CatapultModel.Linear,
    var m => throw new ArgumentException($"--model must be network, quadratic or linear, not '{m}'."),
};
string modelName = model.ToString().ToLowerInvariant();
bool json = options.Has("json");
var backend = options.Backend();

if (options.Has("edge"))
{
    int seeds = options.Get("seeds", 3), iterations = options.Get("iterations", 6);
    double low = options.Get("low", 2.0), high = options.Get("high", 20.0), gridStep = options.Get("grid-step", 0.5);
    var grid = Enumerable.Range(0, (int)Math.Floor(((high - low) / gridStep) + 1e-9) + 1).Select(i => low + (i * gridStep)).ToArray();
    var bar = new ProgressBar(seeds * (grid.Length + iterations));
    foreach (int s in Enumerable.Range(seed, seeds))
    {
        string Trial(double el)
        {
            var r = CatapultRun.Run(width, d, el, steps, s, model, backend);
            bar.Step();
            Console.WriteLine(json
                ? $"{{\"model\":\"{modelName}\",\"width\":{width},\"d\":{d},\"seed\":{s},\"steps\":{steps},\"eta_lambda\":{Json(el)},\"outcome\":\"{r.Outcome}\",\"max_loss_ratio\":{Json(r.MaxLossRatio)},\"final_lambda_ratio\":{Json(r.FinalLambdaRatio)}}}"
                : FormattableString.Invariant($"seed {s}: ηλ₀ = {el:F4}: {r.Outcome} (max L/L₀ = {r.MaxLossRatio:G4}, final λ/λ₀ = {r.FinalLambdaRatio:G4})"));
            return r.Outcome;
        }

        static bool Trains(string outcome) => outcome is "monotone" or "catapult" or "spike";
        var outcomes = grid.Select(Trial).ToArray();
        int firstFail = Array.FindIndex(outcomes, o => !Trains(o));
        if (firstFail <= 0)
        {
            Console.WriteLine(json ? $"{{\"model\":\"{modelName}\",\"seed\":{s},\"edge\":null}}" : $"seed {s}: no edge between {Json(low)} and {Json(high)}");
            continue;
        }

        double a = grid[firstFail - 1], b = grid[firstFail];
        string atEdge = outcomes[firstFail];
        for (int i = 0; i < iterations; i++)
        {
            double mid = 0.5 * (a + b);
            string o = Trial(mid);
            if (Trains(o))
            {
                a = mid;
            }
            else
            {
                b = mid;
                atEdge = o;
            }
        }

        double FirstOf(string o) => Array.FindIndex(outcomes, x => x == o) is int i and >= 0 ? grid[i] : double.NaN;
        bool trainsAbove = outcomes.Skip(firstFail).Any(Trains);
        Console.WriteLine(json
            ? $"{{\"model\":\"{modelName}\",\"width\":{width},\"seed\":{s},\"steps\":{steps},\"edge_low\":{Json(a)},\"edge_high\":{Json(b)},\"edge_outcome\":\"{atEdge}\",\"first_diverged\":{Json(FirstOf("diverged"))},\"first_dead\":{Json(FirstOf("dead"))},\"trains_above_edge\":{(trainsAbove ? "true" : "false")}}}"
            : FormattableString.Invariant($"seed {s}: edge ηλ₀ in [{a:F4}, {b:F4}] ({atEdge} above it); first diverged on the grid {FirstOf("diverged")}, first dead {FirstOf("dead")}; trains again above the edge: {trainsAbove}"));
    }

    return 0;
}

var progress = new ProgressBar(steps);
var result = CatapultRun.Run(width, d, etaLambda, steps, seed, model, backend, step =>
{
    progress.Step();
    if (json)
    {
        Console.WriteLine($"{{\"step\":{step.Step},\"loss\":{Json(step.Loss)},\"ntk_top_eigenvalue\":{Json(step.TopEigenvalue)}}}");
    }
});
if (result.Steps.Count < steps && !Console.IsErrorRedirected)
{
    Console.Error.WriteLine();
}

if (!json)
{
    Console.WriteLine(FormattableString.Invariant($"{modelName}, m = {width}, d = {d}, seed {seed}: λ₀ = {result.InitialEigenvalue:G6}, η = {result.LearningRate:G6} (ηλ₀ = {etaLambda}), 2/η = {2 / result.LearningRate:G6}"));
    foreach (var step in result.Steps.Where((_, i) => i < 10 || i % Math.Max(1, steps / 20) == 0 || i == result.Steps.Count - 1))
    {
        Console.WriteLine(FormattableString.Invariant($"step {step.Step,5}: loss {step.Loss,12:G6}  λ {step.TopEigenvalue,10:G6}"));
    }
}

static string JsonStep(int? v) => v is int i ? i.ToString(CultureInfo.InvariantCulture) : "null";

Console.WriteLine(json
    ? $"{{\"outcome\":\"{result.Outcome}\",\"max_loss_ratio\":{Json(result.MaxLossRatio)},\"final_lambda_ratio\":{Json(result.FinalLambdaRatio)},\"final_loss_ratio\":{Json(result.FinalLossRatio)},\"final_eta_lambda\":{Json(result.FinalLambdaRatio * etaLambda)},\"spike_step\":{JsonStep(result.Detection.SpikeStep)},\"peak_step\":{JsonStep(result.Detection.PeakStep)},\"drop_step\":{JsonStep(result.Detection.DropStep)},\"recovery_step\":{JsonStep(result.Detection.RecoveryStep)},\"eigenvalue_drop_ratio\":{Json(result.Detection.EigenvalueRatio ?? double.NaN)},\"lambda0\":{Json(result.InitialEigenvalue)},\"model\":\"{modelName}\",\"eta_lambda\":{Json(etaLambda)},\"width\":{width},\"d\":{d},\"seed\":{seed}}}"
    : FormattableString.Invariant($"outcome: {result.Outcome}; max L/L₀ = {result.MaxLossRatio:G6}, final L/L₀ = {result.FinalLossRatio:G6}, final λ/λ₀ = {result.FinalLambdaRatio:G6} (final ηλ = {result.FinalLambdaRatio * etaLambda:G4}, stable below 2)"));

string outDir = options.Get("out", "catapult-output");
Directory.CreateDirectory(outDir);
var t = result.Steps.Select(s => (double)s.Step).ToArray();
string title = FormattableString.Invariant($"{modelName}, m = {width}, ηλ₀ = {etaLambda}");
string[] paths =
[
    SaveLines(Path.Combine(outDir, "loss.png"), title, "step", "log10 loss", [("loss", t, result.Steps.Select(s => Math.Log10(Math.Max(s.Loss, 1e-300))).ToArray())]),
    SaveLines(Path.Combine(outDir, "ntk.png"), title, "step", "top NTK eigenvalue λ", [("λ", t, result.Steps.Select(s => s.TopEigenvalue).ToArray()), ("2/η", [0, t[^1]], [2 / result.LearningRate, 2 / result.LearningRate])]),
];
foreach (string path in paths)
{
    Console.WriteLine(json ? PlotLine(path) : $"Plot written to {Path.GetFullPath(path)}");
}

return 0;
