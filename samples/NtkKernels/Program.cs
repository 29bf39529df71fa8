// The analytic infinite-width NNGP and NTK of a fully connected network (FeatureLearning.Ntk.InfiniteWidthKernel),
// neural-tangents convention, for two inputs with xᵀx/d = zᵀz/d = 1 and xᵀz/d = ρ.
//
//   dotnet run -c Release --project samples/NtkKernels -- [--activation relu|leaky|erf|tanh|gelu|quadratic|linear]
//       [--depth 3] [--w-std S] [--b-std 0] [--rho R] [--slope 0.01] [--max-depth M] [--out ntk-output] [--json]
//
// With --rho: one line, {"nngp": …, "ntk": …} under --json. Without it: NNGP and NTK against ρ for depths 1, 2, 3
// and 10 (nngp.png, ntk.png), and NTK/(L+1) against the depth L for ρ = 0, 0.5, 0.9 and 1 (ntk_per_layer.png);
// --json then prints one object per computed point and one {"plot": path} per file. σ_w defaults to √2 (the
// critical value) for ReLU, leaky ReLU and GELU, and to 1 otherwise. For ReLU at σ_w² = 2, σ_b = 0, NTK/(L+1) → 2
// at ρ = 1 and → 1/2 (a quarter of the variance) for every ρ < 1.
using System.Globalization;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using FeatureLearning.Samples;
using static FeatureLearning.Samples.LinePlots;

var options = new SampleOptions(args);
var activation = options.Get("activation", "relu").ToUpperInvariant() switch
{
    "RELU" => Activation.Relu,
    "LEAKY" or "LEAKY-RELU" or "LEAKYRELU" => Activation.LeakyRelu(options.Get("slope", 0.01)),
    "ERF" => Activation.Erf,
    "TANH" => Activation.Tanh,
    "GELU" => Activation.Gelu,
    "QUADRATIC" => Activation.Quadratic,
    "LINEAR" => Activation.Linear,
    var a => throw new ArgumentException($"--activation must be relu, leaky, erf, tanh, gelu, quadratic or linear, not '{a}'."),
};
bool critical = activation.Kind is ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Gelu;
var kernel = new InfiniteWidthKernel(activation, options.Get("depth", 3), options.Get("w-std", critical ? Math.Sqrt(2) : 1.0), options.Get("b-std", 0.0));
kernel.Validate();
bool json = options.Has("json");

if (options.Has("rho"))
{
    double rho = options.Get("rho", 0.0);
    if (!(rho >= -1 && rho <= 1))
    {
        throw new ArgumentException($"--rho is a correlation xᵀz/d with xᵀx/d = zᵀz/d = 1: it must lie in [-1, 1], not {rho.ToString(CultureInfo.InvariantCulture)}.");
    }

    var value = kernel.Evaluate(1, 1, rho);
    Console.WriteLine(json
        ? $"{{\"nngp\":{Json(value.Nngp)},\"ntk\":{Json(value.Ntk)}}}"
        : $"{kernel.Name}, xᵀx/d = zᵀz/d = 1, xᵀz/d = {rho.ToString(CultureInfo.InvariantCulture)}: NNGP = {Json(value.Nngp)}, NTK = {Json(value.Ntk)}");
    return 0;
}

string outDir = options.Get("out", "ntk-output");
bool closedForm = activation.IsPiecewiseLinearOrErf();
int maxDepth = options.Get("max-depth", closedForm ? 10_000 : 300);
int[] depths = [1, 2, 3, 10];
double[] rhos = Enumerable.Range(0, 101).Select(i => -1 + (i / 50.0)).ToArray();
double[] sweepRhos = [0, 0.5, 0.9, 1];
int[] sweepDepths = Enumerable.Range(0, 31).Select(i => (int)Math.Round(Math.Pow(maxDepth, i / 30.0))).Distinct().ToArray();
var progress = new ProgressBar(depths.Length + sweepRhos.Length);
if (!json)
{
    Console.WriteLine(FormattableString.Invariant($"{activation.Name}, σ_w = {kernel.WeightStd:G6}, σ_b = {kernel.BiasStd:G6}: NNGP and NTK for xᵀx/d = zᵀz/d = 1, xᵀz/d = ρ."));
}

var nngpSeries = new List<(string Label, double[] X, double[] Y)>();
var ntkSeries = new List<(string Label, double[] X, double[] Y)>();
foreach (int depth in depths)
{
    var k = kernel with { Depth = depth };
    var values = rhos.Select(r => k.Evaluate(1, 1, r)).ToArray();
    nngpSeries.Add(($"L = {depth}", rhos, values.Select(v => v.Nngp).ToArray()));
    ntkSeries.Add(($"L = {depth}", rhos, values.Select(v => v.Ntk).ToArray()));
    if (json)
    {
        for (int i = 0; i < rhos.Length; i++)
        {
            Console.WriteLine($"{{\"depth\":{depth},\"rho\":{Json(rhos[i])},\"nngp\":{Json(values[i].Nngp)},\"ntk\":{Json(values[i].Ntk)}}}");
        }
    }

    progress.Step();
}

var perLayerSeries = new List<(string Label, double[] X, double[] Y)>();
foreach (double rho in sweepRhos)
{
    var perLayer = sweepDepths.Select(depth => (kernel with { Depth = depth }).Evaluate(1, 1, rho).Ntk / (depth + 1)).ToArray();
    perLayerSeries.Add(($"ρ = {rho.ToString(CultureInfo.InvariantCulture)}", sweepDepths.Select(d => Math.Log10(d)).ToArray(), perLayer));
    if (json)
    {
        for (int i = 0; i < sweepDepths.Length; i++)
        {
            Console.WriteLine($"{{\"depth\":{sweepDepths[i]},\"rho\":{Json(rho)},\"ntk_per_layer\":{Json(perLayer[i])}}}");
        }
    }
    else
    {
        Console.WriteLine($"ρ = {rho.ToString(CultureInfo.InvariantCulture),3}: NTK/(L+1) = {Json(perLayer[^1])} at L = {sweepDepths[^1]}");
    }

    progress.Step();
}

Directory.CreateDirectory(outDir);
string[] paths =
[
    SaveLines(Path.Combine(outDir, "nngp.png"), $"NNGP, {kernel.Activation.Name}, σ_w = {kernel.WeightStd:G4}, σ_b = {kernel.BiasStd:G4}", "ρ = x·z/d", "NNGP", nngpSeries),
    SaveLines(Path.Combine(outDir, "ntk.png"), $"NTK, {kernel.Activation.Name}, σ_w = {kernel.WeightStd:G4}, σ_b = {kernel.BiasStd:G4}", "ρ = x·z/d", "NTK", ntkSeries),
    SaveLines(Path.Combine(outDir, "ntk_per_layer.png"), $"NTK/(L+1) against depth, {kernel.Activation.Name}", "log10 L", "NTK / (L + 1)", perLayerSeries),
];
foreach (string path in paths)
{
    Console.WriteLine(json ? PlotLine(path) : $"Plot written to {Path.GetFullPath(path)}");
}

return 0;

/// <summary>Which activations have closed forms (cheap at any depth).</summary>
internal static class ActivationInfo
{
    public static bool IsPiecewiseLinearOrErf(this Activation activation) =>
        activation.Kind is ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Linear or ActivationKind.Erf;
}
