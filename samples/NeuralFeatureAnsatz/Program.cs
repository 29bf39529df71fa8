// The neural feature ansatz (Radhakrishnan et al., Science 2024) on a planted low-rank target: x ~ N(0, I_20) and
// y = (u₁ᵀx)(u₂ᵀx) for two seeded orthonormal directions. A network 20 → m → m → 1 (ReLU, standard parameterisation)
// is trained by minibatch SGD; per epoch the sample prints the test MSE, the NFA correlation ρ(WᵀW, AGOP^{1/2}) of the
// first two layers (each layer's AGOP with respect to its own input, at the first --agop-size training inputs) and the
// cosine alignment of the input AGOP with the AGOP of the true function. At the end it fits RFM (Laplace kernel) on the
// same data and compares its M with the AGOP of its predictor, and plots WᵀW, AGOP^{1/2} and M as heat maps (in a basis
// whose first two vectors span the planted plane).
//
//   dotnet run -c Release --project samples/NeuralFeatureAnsatz -- [--dimension 20] [--width 128] [--train 1000]
//       [--test 1000] [--agop-size 500] [--init-scale 0.1] [--learning-rate 0.05] [--weight-decay 1e-3] [--momentum 0]
//       [--batch-size 32] [--epochs 60] [--every 1] [--remove-init] [--rfm-rounds 5] [--seed 0]
//       [--out neural-feature-ansatz-output] [--json]
//
// --remove-init compares (W − W₀)ᵀ(W − W₀) instead of WᵀW (undefined at epoch 0: printed as such, null in JSON).
// --json: one JSON object per line on standard output (per report, then a summary, then one per plot); the progress bar
// is on standard error.
using System.Globalization;
using FeatureLearning.Diagnostics;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Samples;
using FeatureLearning.Samples.Nfa;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Samples.LinePlots;

var options = new SampleOptions(args);
var settings = new NfaSettings
{
    Dimension = options.Get("dimension", 20), Width = options.Get("width", 128), TrainSize = options.Get("train", 1000),
    TestSize = options.Get("test", 1000), AgopSize = options.Get("agop-size", 500), InitScale = options.Get("init-scale", 0.1),
    LearningRate = options.Get("learning-rate", 0.05), WeightDecay = options.Get("weight-decay", 1e-3), Momentum = options.Get("momentum", 0.0),
    BatchSize = options.Get("batch-size", 32), Epochs = options.Get("epochs", 60), Every = options.Get("every", 1),
    RemoveInitial = options.Has("remove-init"), Seed = options.Get("seed", 0),
};
settings.Validate();
bool json = options.Has("json");
var backend = options.Backend();
string feature = settings.RemoveInitial ? "(W − W₀)ᵀ(W − W₀)" : "WᵀW";
if (!json)
{
    Console.WriteLine(FormattableString.Invariant($"y = (u₁ᵀx)(u₂ᵀx), d = {settings.Dimension}, n = {settings.TrainSize}: network {settings.Dimension} → {settings.Width} → {settings.Width} → 1 (ReLU), init scale {settings.InitScale}, on {backend.Name}; SGD η = {settings.LearningRate}, batch {settings.BatchSize}, weight decay {settings.WeightDecay}, momentum {settings.Momentum}; NFA: {feature} vs AGOP^(1/2)."));
}

var rows = new List<NfaReport>();
var bar = new ProgressBar((settings.Epochs + settings.Every - 1) / settings.Every + 1);
var (network, initial, task) = NeuralFeatureAnsatzRun.Run(settings, backend, row =>
{
    rows.Add(row);
    bar.Step();
    Console.WriteLine(json
        ? $"{{\"epoch\":{row.Epoch},\"train_mse\":{Json(row.TrainMse)},\"test_mse\":{Json(row.TestMse)},\"nfa_correlation_layer1\":{Json(row.Layer1Correlation)},\"nfa_correlation_layer2\":{Json(row.Layer2Correlation)},\"agop_alignment_with_target\":{Json(row.TargetAlignment)}}}"
        : FormattableString.Invariant($"epoch {row.Epoch,4}: MSE {row.TrainMse,9:G4} / {row.TestMse,9:G4}, NFA correlation layer 1 {Show(row.Layer1Correlation)}, layer 2 {Show(row.Layer2Correlation)}, AGOP alignment with the target {row.TargetAlignment:F4}"));
});

var agopX = task.TrainX.SubMatrix(0, Math.Min(settings.AgopSize, settings.TrainSize), 0, settings.Dimension);
var w0 = settings.RemoveInitial ? initial : null;
var layer1 = NeuralFeatureAnsatz.Measure(network, agopX, 0, initialParameters: w0);
double energy = NeuralFeatureAnsatzRun.PlantedEnergyFraction(layer1.FeatureMatrix, task.Directions);
double[] cosines = NeuralFeatureAnsatzRun.PrincipalCosines(layer1.FeatureMatrix, task.Directions);

var rfm = new RecursiveFeatureMachine(new RfmOptions { Kernel = new LaplaceKernel(10.0), Ridge = 1e-3, Rounds = options.Get("rfm-rounds", 5), Backend = backend })
    .Fit(task.TrainX, task.TrainY, (task.TestX, task.TestY));
var rfmNfa = NeuralFeatureAnsatz.CompareRfm(rfm, agopX, backend: backend);
var rfmTest = rfm.Predict(task.TestX) - task.TestY;
double rfmMse = rfmTest.FrobeniusNorm() * rfmTest.FrobeniusNorm() / task.TestX.RowCount;
var target = NeuralFeatureAnsatzRun.TargetAgop(task, agopX);
double rfmTargetAlignment = NeuralFeatureAnsatz.Alignment(rfmNfa.Agop, target);
double rfmEnergy = NeuralFeatureAnsatzRun.PlantedEnergyFraction(rfm.FeatureMatrix, task.Directions);
Console.WriteLine(json
    ? $"{{\"final_nfa_correlation_layer1\":{Json(layer1.Correlation)},\"planted_energy_fraction\":{Json(energy)},\"principal_cosine_min\":{Json(cosines[0])},\"principal_cosine_max\":{Json(cosines[1])},\"rfm_test_mse\":{Json(rfmMse)},\"rfm_nfa_correlation\":{Json(rfmNfa.Correlation)},\"rfm_m_agop_alignment\":{Json(rfmNfa.Alignment)},\"rfm_agop_alignment_with_target\":{Json(rfmTargetAlignment)},\"rfm_planted_energy_fraction\":{Json(rfmEnergy)}}}"
    : FormattableString.Invariant($"Layer 1: {feature} has {energy:P1} of its trace in the planted plane (isotropic: {2.0 / settings.Dimension:P0}); its top-2 eigenvectors meet the plane at principal-angle cosines {cosines[0]:F4}, {cosines[1]:F4}.\nRFM ({rfm.History.Count} rounds): test MSE {rfmMse:G4}; ρ(M, AGOP^(1/2)) {rfmNfa.Correlation:F4}, alignment {rfmNfa.Alignment:F4}; its AGOP's alignment with the target {rfmTargetAlignment:F4}; M has {rfmEnergy:P1} of its trace in the planted plane."));

string outDir = options.Get("out", "neural-feature-ansatz-output");
Directory.CreateDirectory(outDir);
var t = rows.Select(r => (double)r.Epoch).ToArray();

// The heat maps in a basis whose first two vectors span the planted plane (the rest completes it, seeded): learned
// features show as the top-left 2 × 2 block.
var basis = task.Directions.Append(Matrix<double>.Build.Dense(settings.Dimension, settings.Dimension - 2, (i, j) => Math.Sin((i + 1) * (j + 3.7)))).QR().Q;
Matrix<double> Rotate(Matrix<double> m) => basis.TransposeThisAndMultiply(m) * basis;
string[] paths =
[
    SaveLines(Path.Combine(outDir, "correlation.png"), $"NFA correlation of {(settings.RemoveInitial ? "(W-W0)^T (W-W0)" : "W^T W")} with AGOP^1/2", "epoch", "correlation", [("layer 1", t, rows.Select(r => r.Layer1Correlation).ToArray()), ("layer 2", t, rows.Select(r => r.Layer2Correlation).ToArray()), ("AGOP alignment with target", t, rows.Select(r => r.TargetAlignment).ToArray())]),
    SaveLines(Path.Combine(outDir, "mse.png"), "test MSE", "epoch", "log10 MSE", [("train", t, rows.Select(r => Math.Log10(r.TrainMse)).ToArray()), ("test", t, rows.Select(r => Math.Log10(r.TestMse)).ToArray())]),
    SaveHeatmaps(Path.Combine(outDir, "feature_matrices.png"), [(settings.RemoveInitial ? "(W-W0)^T (W-W0)" : "W^T W", Rotate(layer1.FeatureMatrix)), ("network's AGOP^1/2", Rotate(layer1.AgopPower)), ("RFM's M", Rotate(rfm.FeatureMatrix))]),
];
foreach (string path in paths)
{
    Console.WriteLine(json ? PlotLine(path) : $"Plot written to {Path.GetFullPath(path)}");
}

network.Dispose();
return 0;

static string Show(double v) => double.IsNaN(v) ? "undefined" : v.ToString("F4", CultureInfo.InvariantCulture);

// The d × d matrices side by side in one heat map (a blank column between them), each scaled by its largest absolute entry
// (their scales are unrelated), so that one colour bar serves all.
static string SaveHeatmaps(string path, IReadOnlyList<(string Title, Matrix<double> Matrix)> panels)
{
    int d = panels[0].Matrix.RowCount;
    var data = new double[d, (panels.Count * (d + 1)) - 1];
    for (int r = 0; r < d; r++)
    {
        for (int c = 0; c < data.GetLength(1); c++)
        {
            data[r, c] = double.NaN; // NaN cells are drawn transparent
        }
    }

    for (int p = 0; p < panels.Count; p++)
    {
        var m = panels[p].Matrix;
        double scale = m.Enumerate().Max(Math.Abs);
        for (int r = 0; r < d; r++)
        {
            for (int c = 0; c < d; c++)
            {
                data[r, (p * (d + 1)) + c] = m[r, c] / scale;
            }
        }
    }

    var plot = new ScottPlot.Plot();
    var heatmap = plot.Add.Heatmap(data);
    plot.Add.ColorBar(heatmap);
    plot.Title(string.Join("  |  ", panels.Select(p => p.Title)) + " (each / its max |entry|)");
    plot.XLabel("coordinate in the planted basis (0, 1: the planted plane), one block per matrix");
    plot.YLabel("coordinate in the planted basis");
    plot.Axes.InvertY();
    plot.SavePng(path, 400 * panels.Count, 480);
    return path;
}
