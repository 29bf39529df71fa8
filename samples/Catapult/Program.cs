// The catapult phase of wide networks (Lewkowycz et al. 2020; Zhu et al. 2023, the quadratic model): a two-layer ReLU
// network f = (1/√m) Σ vᵢ relu(uᵢᵀx/√d) (NTK parameterisation, v = ±1), one training point with ‖x‖² = d and y = 1,
// trained by GD on L = ½(f − y)² at η = (ηλ₀)/λ₀, λ₀ = the NTK ‖∇_w f‖² at init (the top eigenvalue of J Jᵀ/n, n = 1).
//
//   dotnet run -c Release --project samples/Catapult -- [--width 4096] [--d 10] [--eta-lambda 2.5] [--steps 300]
//       [--seed 0] [--model network|quadratic|linear] [--out catapult-output] [--json]
//       [--edge --seeds 3 --low 4 --high 20 --iterations 10]
//
// Per step: step, loss, ntk_top_eigenvalue; then {"outcome": "monotone"|"catapult"|"diverged", "max_loss_ratio": …,
// "final_lambda_ratio": …} (and more fields), and loss.png / ntk.png. The theory: monotone for ηλ₀ < 2, catapult for
// 2 < ηλ₀ < 4 (the loss grows, λ falls below 2/η, the loss converges; network and quadratic model), divergence above 4
// for the quadratic model and above 2 for the linear one. A fourth outcome, "dead", is a ReLU network whose every unit
// went inactive on x after a large step (λ = 0, f = 0). --edge bisects ηλ₀ between --low and --high for --seeds seeds
// (from --seed) on "trains" (monotone or catapult) against "fails" (diverged or dead), and prints each trial and the
// edge per seed.
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
    int seeds = options.Get("seeds", 3), iterations = options.Get("iterations", 10);
    double low0 = options.Get("low", 4.0), high0 = options.Get("high", 20.0);
    var bar = new ProgressBar(seeds * (iterations + 2));
    foreach (int s in Enumerable.Range(seed, seeds))
    {
        bool Trains(double el)
        {
            var r = CatapultRun.Run(width, d, el, steps, s, model, backend);
            bar.Step();
            Console.WriteLine(json
                ? $"{{\"model\":\"{modelName}\",\"width\":{width},\"d\":{d},\"seed\":{s},\"steps\":{steps},\"eta_lambda\":{Json(el)},\"outcome\":\"{r.Outcome}\",\"max_loss_ratio\":{Json(r.MaxLossRatio)},\"final_lambda_ratio\":{Json(r.FinalLambdaRatio)}}}"
                : FormattableString.Invariant($"seed {s}: ηλ₀ = {el:F4}: {r.Outcome} (max L/L₀ = {r.MaxLossRatio:G4}, final λ/λ₀ = {r.FinalLambdaRatio:G4})"));
            return r.Outcome is "monotone" or "catapult";
        }

        double low = low0, high = high0;
        if (!Trains(low) || Trains(high))
        {
            Console.WriteLine(json ? $"{{\"seed\":{s},\"edge\":null}}" : $"seed {s}: the edge is not between {Json(low)} and {Json(high)}");
            continue;
        }

        for (int i = 0; i < iterations; i++)
        {
            double mid = 0.5 * (low + high);
            if (!Trains(mid))
            {
                high = mid;
            }
            else
            {
                low = mid;
            }
        }

        Console.WriteLine(json
            ? $"{{\"model\":\"{modelName}\",\"seed\":{s},\"edge_low\":{Json(low)},\"edge_high\":{Json(high)}}}"
            : FormattableString.Invariant($"seed {s}: divergence edge ηλ₀ in [{low:F4}, {high:F4}]"));
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

Console.WriteLine(json
    ? $"{{\"outcome\":\"{result.Outcome}\",\"max_loss_ratio\":{Json(result.MaxLossRatio)},\"final_lambda_ratio\":{Json(result.FinalLambdaRatio)},\"final_loss_ratio\":{Json(result.FinalLossRatio)},\"final_eta_lambda\":{Json(result.FinalLambdaRatio * etaLambda)},\"lambda0\":{Json(result.InitialEigenvalue)},\"model\":\"{modelName}\",\"eta_lambda\":{Json(etaLambda)},\"width\":{width},\"d\":{d},\"seed\":{seed}}}"
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
