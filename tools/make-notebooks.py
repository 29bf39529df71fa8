#!/usr/bin/env python3
# Writes samples/notebooks/*.ipynb (without outputs) from the cells below; run from samples/notebooks, then
# tools/run-notebooks to execute them in place. Edit the notebooks here or in an editor, not both.
import json, sys

def cell(src, kind="code"):
    lines = src.strip("\n").split("\n")
    source = [l + "\n" for l in lines[:-1]] + [lines[-1]]
    if kind == "markdown":
        return {"cell_type": "markdown", "metadata": {}, "source": source}
    return {"cell_type": "code", "execution_count": None,
            "metadata": {"dotnet_interactive": {"language": "csharp"}, "polyglot_notebook": {"kernelName": "csharp"}},
            "outputs": [], "source": source}

def notebook(cells):
    return {"cells": cells,
            "metadata": {"kernelspec": {"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"},
                         "language_info": {"file_extension": ".cs", "mimetype": "text/x-csharp", "name": "C#", "pygments_lexer": "csharp", "version": "13.0"},
                         "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp", "items": [{"aliases": [], "name": "csharp"}]}}},
            "nbformat": 4, "nbformat_minor": 5}

VERSION = "0.1.0-preview"
REF = f'''// The package from the local feed that `dotnet pack -c Release -o artifacts/feed` fills (docs/packages.md).
// A magic command takes no relative path, so this cell submits the "#i" line with the absolute one. To take the
// package from nuget.org instead, skip this cell.
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;

var feed = System.IO.Path.GetFullPath("../../artifacts/feed");
await Kernel.Root.SendAsync(new SubmitCode($"#i \\"nuget: {{feed}}\\"", "csharp"));'''
REF2 = f'''#r "nuget: FeatureLearning, {VERSION}"'''
PLOT = f'''#r "nuget: FeatureLearning.Plotting, {VERSION}"

// Figures, fitted models and matrices that end a cell display as pictures.
using FeatureLearning.Plotting;
FeatureLearning.Plotting.Notebook.UseFormatters()'''

CURVE = r'''// A line chart as inline SVG: one polyline per series, y in [0, 1]; NaN points (no value that round) are left out.
static void ShowCurves(string title, params (string Name, string Colour, double[] Y)[] series)
{
    int w = 480, h = 240, pad = 30, n = series.Max(s => s.Y.Length);
    string X(int i) => (pad + i * (w - 2 * pad) / (double)Math.Max(1, n - 1)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    string Y(double v) => (h - pad - Math.Clamp(v, 0, 1) * (h - 2 * pad)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    var svg = new System.Text.StringBuilder($"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='11'>");
    svg.Append($"<rect width='{w}' height='{h}' fill='white'/><text x='{pad}' y='16'>{title}</text>");
    svg.Append($"<line x1='{pad}' y1='{h - pad}' x2='{w - pad}' y2='{h - pad}' stroke='black'/><line x1='{pad}' y1='{pad}' x2='{pad}' y2='{h - pad}' stroke='black'/>");
    svg.Append($"<text x='4' y='{Y(1)}'>1</text><text x='4' y='{Y(0)}'>0</text><text x='{w / 2}' y='{h - 8}'>round</text>");
    for (int k = 0; k < series.Length; k++)
    {
        var (name, colour, ys) = series[k];
        svg.Append($"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{string.Join(" ", ys.Select((v, i) => (v, i)).Where(p => double.IsFinite(p.v)).Select(p => X(p.i) + "," + Y(p.v)))}'/>");
        svg.Append($"<text x='{pad + 10}' y='{h / 2 + 14 * k}' fill='{colour}'>{name}</text>");
    }
    svg.Append("</svg>").ToString().DisplayAs("image/svg+xml");
}'''

quick = notebook([
    cell("""# FeatureLearning quick start: kernel ridge and RFM on digits

The UCI digits (1,797 images of 8 × 8 pixels, 10 classes) from the repository's `data/` folder: a Laplace kernel
machine, then a Recursive Feature Machine, which learns a feature matrix M over the 64 pixels. Run it in Jupyter
with the .NET Interactive kernel or in VS Code's Polyglot Notebooks (see `docs/packages.md`); CI runs it with
`dotnet-repl` and fails on any cell error.""", "markdown"),
    cell(REF),
    cell(REF2),
    cell(PLOT),
    cell("""using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

var data = LabeledDataSet.LoadCsv("../../data/digits.csv.gz");
var (train, test) = data.Split(trainFraction: 0.5, seed: 0);
var (fit, validation) = train.Split(trainFraction: 0.8, seed: 1);
Matrix<double> Scaled(LabeledDataSet set) => set.Features / 16.0;   // pixels 0..16 to 0..1
Console.WriteLine($"{fit.Count} train, {validation.Count} validation, {test.Count} test, {data.Features.ColumnCount} features, {data.Classes} classes");"""),
    cell("""## Kernel ridge""", "markdown"),
    cell("""var ridge = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3 })
    .Fit(Scaled(train), OneHot.Encode(train.Labels, data.Classes));
double ridgeAccuracy = OneHot.Accuracy(ridge.PredictClass(Scaled(test)), test.Labels);
if (ridgeAccuracy < 0.95) throw new InvalidOperationException($"kernel ridge test accuracy {ridgeAccuracy} is below 0.95");
$"Kernel ridge (Laplace, L = 10): test accuracy {ridgeAccuracy:P2}\""""),
    cell("""## Recursive Feature Machine

Three rounds; the validation set picks the round. `History` holds one row per round.""", "markdown"),
    cell("""var rfm = new RecursiveFeatureMachine(new RfmOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 3, RecordFeatureMatrices = true })
    .Fit(Scaled(fit), OneHot.Encode(fit.Labels, data.Classes), validation: (Scaled(validation), OneHot.Encode(validation.Labels, data.Classes)));
double rfmAccuracy = OneHot.Accuracy(rfm.PredictClass(Scaled(test)), test.Labels);
if (rfmAccuracy < 0.95) throw new InvalidOperationException($"RFM test accuracy {rfmAccuracy} is below 0.95");
foreach (var round in rfm.History) Console.WriteLine(round);
$"RFM: round {rfm.SelectedIteration} selected (rounds count from 0), test accuracy {rfmAccuracy:P2}\""""),
    cell("""## The learned feature matrix M

M of the last round (`FeatureMatrixHistory`; `FeatureMatrix` is the selected round's, the identity when the plain
kernel machine of round 0 wins on validation) is 64 × 64, one row and column per pixel (row-major over the 8 × 8
image). The border pixels, nearly always blank, get almost no weight; the diagonal shows which pixels the classifier
uses.""", "markdown"),
    cell("""var learned = rfm.FeatureMatrixHistory[^1];
Plots.HeatMap(learned, "M after the last round")"""),
    cell("""The diagonal of M as an 8 × 8 image: the pixels that matter.""", "markdown"),
    cell("""var diagonal = learned.Diagonal();
Plots.HeatMap(Matrix<double>.Build.Dense(8, 8, (i, j) => diagonal[8 * i + j]), "diagonal of M as the 8 x 8 image")"""),
    cell("""The fitted model itself displays as its selected M, its rounds as curves and as a table.""", "markdown"),
    cell("""rfm"""),
])

grok = notebook([
    cell("""# Grokking modular addition with RFM

a + b mod 31 with 70% of the 961 pairs for training, the settings of Mallinar et al. (2024): Gaussian kernel
L = 2.5, ridge 0, M ← AGOP^{1/2}, centred gradients (`RfmOptions.Grokking`). The training set is interpolated from
the first round, while the test accuracy stays near chance for several rounds and then jumps to 100%; the feature
matrix becomes block-circulant before it does. CI runs this notebook with `dotnet-repl` and fails on any cell error.""", "markdown"),
    cell(REF),
    cell(REF2),
    cell(PLOT),
    cell(CURVE),
    cell("""using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Rfm;

const int p = 31;
var task = ModularArithmetic.Create(p, ModularOperation.Add);
var (train, test) = task.Split(0.7, seed: 0);
var model = new RecursiveFeatureMachine(RfmOptions.Grokking(16) with { RecordFeatureMatrices = true, SelectBy = SelectionMetric.Last })
    .Fit(task.Inputs<double>(train), task.Targets<double>(train), (task.Inputs<double>(test), task.Targets<double>(test)));
foreach (var round in model.History) Console.WriteLine(round);"""),
    cell("""## Test accuracy and circulant deviation per round""", "markdown"),
    cell("""var accuracy = model.History.Select(h => h.ValidationAccuracy).ToArray();
var deviation = model.FeatureMatrixHistory.Select(m => GrokkingMeasures.CirculantDeviation(m, p, ModularOperation.Add)).ToArray();
ShowCurves($"a + b mod {p}: RFM rounds", ("test accuracy", "#1f77b4", accuracy), ("circulant deviation of M", "#d62728", deviation));
if (accuracy[0] >= 0.1 || accuracy[^1] != 1.0) throw new InvalidOperationException($"no grokking: test accuracy {accuracy[0]} after round 0, {accuracy[^1]} at the end");
$"test accuracy {accuracy[0]:P1} after round 0, {accuracy[^1]:P1} after round {accuracy.Length - 1}\""""),
    cell("""## The feature matrix M

M is 62 × 62: the one-hot codes of a (first 31) and b (last 31). After grokking, each block is circulant: constant
along its (wrapped) diagonals.""", "markdown"),
    cell("""Plots.HeatMap(model.FeatureMatrix, $"M after round {model.SelectedIteration} (diagonal hidden)", hideDiagonal: true)"""),
])

json.dump(quick, open("quick-start.ipynb", "w"), indent=1, ensure_ascii=False)
json.dump(grok, open("grokking.ipynb", "w"), indent=1, ensure_ascii=False)

LOGCURVE = r'''// A line chart of positive values on a log10 axis, as inline SVG; NaN or non-positive points are left out.
static void ShowLogCurves(string title, string xLabel, params (string Name, string Colour, double[] Y)[] series)
{
    var inv = System.Globalization.CultureInfo.InvariantCulture;
    int w = 560, h = 280, pad = 44, n = series.Max(s => s.Y.Length);
    var logs = series.SelectMany(s => s.Y).Where(v => v > 0 && double.IsFinite(v)).Select(Math.Log10).ToArray();
    double lo = Math.Floor(logs.Min()), hi = Math.Ceiling(logs.Max());
    string X(int i) => (pad + i * (w - 2 * pad) / (double)Math.Max(1, n - 1)).ToString("F1", inv);
    string Y(double log) => (h - pad - (log - lo) / Math.Max(1e-9, hi - lo) * (h - 2 * pad)).ToString("F1", inv);
    var svg = new System.Text.StringBuilder($"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='11'>");
    svg.Append($"<rect width='{w}' height='{h}' fill='white'/><text x='{pad}' y='16'>{title}</text>");
    svg.Append($"<line x1='{pad}' y1='{h - pad}' x2='{w - pad}' y2='{h - pad}' stroke='black'/><line x1='{pad}' y1='{pad}' x2='{pad}' y2='{h - pad}' stroke='black'/>");
    for (double e = lo; e <= hi; e++) svg.Append($"<text x='4' y='{Y(e)}'>1e{e:F0}</text>");
    svg.Append($"<text x='{w / 2}' y='{h - 12}'>{xLabel} (1 to {n})</text>");
    for (int k = 0; k < series.Length; k++)
    {
        var (name, colour, ys) = series[k];
        svg.Append($"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{string.Join(" ", ys.Select((v, i) => (v, i)).Where(p => p.v > 0 && double.IsFinite(p.v)).Select(p => X(p.i) + "," + Y(Math.Log10(p.v))))}'/>");
        svg.Append($"<text x='{w - pad - 200}' y='{pad + 14 * k}' fill='{colour}'>{name}</text>");
    }
    svg.Append("</svg>").ToString().DisplayAs("image/svg+xml");
}'''

completion = notebook([
    cell("""# Low-rank matrix completion with lin-RFM

A planted 120 × 100 matrix of rank 3 with 3,000 entries (25%) observed. lin-RFM (Radhakrishnan, Belkin and
Drusvyatskiy) alternates a ridge solve per row in the metric P with the update P ← (WᵀW)^α; with α = 1 it recovers the
matrix from the observed entries, without an SVD. 5% of the observed entries are held out to pick the iteration. CI
runs this notebook with `dotnet-repl` and fails on any cell error.""", "markdown"),
    cell(REF),
    cell(REF2),
    cell(LOGCURVE),
    cell("""using FeatureLearning.Data;
using FeatureLearning.LinearRfm;
using MathNet.Numerics.LinearAlgebra;

var (truth, observed) = PlantedProblems.LowRank(120, 100, 3, 3000, seed: 2);
var model = new MatrixCompletion(new MatrixCompletionOptions { Alpha = 1, Ridge = 0.05, MaxIterations = 400 }).Fit(observed, truth);
var best = model.History[model.SelectedIteration];
double relative = (model.Completed - truth).FrobeniusNorm() / truth.FrobeniusNorm();
if (relative >= 1e-2) throw new InvalidOperationException($"relative error {relative} is not below 1e-2");
$"{model.History.Count} iterations; selected {model.SelectedIteration + 1}: held-out MSE {best.HeldOutMse:E2}, MSE on the unobserved entries {best.UnobservedMse:E2}, relative error {relative:E2}\""""),
    cell("""## Errors per iteration""", "markdown"),
    cell("""ShowLogCurves("lin-RFM, 120 x 100 rank 3, 25% observed", "iteration",
    ("held-out MSE", "#1f77b4", model.History.Select(h => h.HeldOutMse).ToArray()),
    ("MSE on the unobserved entries", "#d62728", model.History.Select(h => h.UnobservedMse).ToArray()));"""),
    cell("""## Singular values, recovered and true

Three large singular values, the rest near zero: the completed matrix has the planted rank.""", "markdown"),
    cell("""var recovered = model.Completed.Svd(computeVectors: false).S;
var expected = truth.Svd(computeVectors: false).S;
Console.WriteLine(" i   recovered       truth");
for (int i = 0; i < 6; i++) Console.WriteLine($"{i + 1,2} {recovered[i],11:G6} {expected[i],11:G6}");"""),
])
json.dump(completion, open("matrix-completion.ipynb", "w"), indent=1, ensure_ascii=False)

conv = notebook([
    cell("""# Convolutional RFM: filters learned on digits

ConvRFM (Radhakrishnan et al.) learns a metric M on image patches from the patch AGOP: here 3 × 3 patches of the
8 × 8 UCI digits, 300 training images, 3 rounds with a Laplace kernel. The top eigenvectors of M are the filters the
model learned. CI runs this notebook with `dotnet-repl` and fails on any cell error.""", "markdown"),
    cell(REF),
    cell(REF2),
    cell(PLOT),
    cell("""using FeatureLearning.ConvRfm;
using FeatureLearning.Data;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;

var digits = LabeledDataSet.LoadCsv("../../data/digits.csv.gz");
var order = Enumerable.Range(0, digits.Count).ToArray();
new Random(0).Shuffle(order);
var train = digits.Subset(order[..300]);
var test = digits.Subset(order[300..800]);
var options = new ConvRfmOptions { Kernel = new LaplaceKernel(5), Ridge = 1e-5, Rounds = 3, PatchSize = 3, Stride = 1, Normalization = MetricNormalization.Trace, AgopPower = 0.5 };
var model = new ConvolutionalRfm(options).Fit(LocalSignal.Digits(train), OneHot.Encode<double>(train.Labels, digits.Classes));
double accuracy = OneHot.Accuracy(model.PredictClass(LocalSignal.Digits(test)), test.Labels);
if (accuracy < 0.9) throw new InvalidOperationException($"ConvRFM test accuracy {accuracy} is below 0.9");
$"ConvRFM on 300 digits: test accuracy {accuracy:P1} on 500 held-out images\""""),
    cell("""## The patch metric M and its filters

M is 9 × 9 (one row per pixel of a 3 × 3 patch). Its top eigenvectors, drawn as 3 × 3 images, are edge and stroke
detectors.""", "markdown"),
    cell("""Plots.HeatMap(model.FeatureMatrix, "patch metric M (3 x 3 patches)")"""),
    cell("""Plots.Filters(model.FeatureMatrix, patchSize: 3, count: 4)"""),
])
json.dump(conv, open("convrfm-filters.ipynb", "w"), indent=1, ensure_ascii=False)

ntk = notebook([
    cell("""# The NTK: analytic kernels and a catapult

Two views of the network side. First the analytic infinite-width NTK of a ReLU network (`InfiniteWidthKernel`)
against the angle between two inputs, at several depths. Then a catapult (Lewkowycz et al. 2020): a wide two-layer
ReLU network fitted to one point by gradient descent with a learning rate between 2/λ₀ and 4/λ₀, λ₀ the NTK at
initialisation. The loss first grows, the NTK eigenvalue λ drops below 2/η, then the loss converges. CI runs this
notebook with `dotnet-repl` and fails on any cell error.""", "markdown"),
    cell(REF),
    cell(REF2),
    cell(PLOT),
    cell("""using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using MathNet.Numerics.LinearAlgebra;

double[] rho = Enumerable.Range(0, 101).Select(i => -1 + 0.02 * i).ToArray();
var series = new[] { 1, 2, 3, 10 }.Select(depth =>
{
    var kernel = new InfiniteWidthKernel(Activation.Relu, Depth: depth, WeightStd: Math.Sqrt(2), BiasStd: 0);
    return ($"depth {depth}", rho, rho.Select(r => kernel.Evaluate(1.0, 1.0, r).Ntk / (depth + 1)).ToArray());
}).ToArray();
Plots.Lines("ReLU NTK / (L + 1) against xᵀz/d (‖x‖² = ‖z‖² = d)", "ρ = xᵀz/d", "Θ / (L + 1)", series)"""),
    cell("""## A catapult

f(x) = (1/√m) Σ vᵢ relu(uᵢᵀx/√d), m = 2048, d = 10, one point with ‖x‖² = d and y = 1, loss ½(f − y)². With one
point and one output the NTK is the number λ = ‖∇_w f‖². GD at η = 3/λ₀ (between 2/λ₀ and 4/λ₀).""", "markdown"),
    cell("""const int m = 2048, d = 10;
var architecture = new NetworkArchitecture { InputDimension = d, HiddenWidths = [m], OutputDimension = 1, Activation = Activation.Relu,
    Parameterization = Parameterization.Ntk, WeightStd = 1, BiasStd = 0, OutputScale = 1 };
var network = FullyConnectedNetwork<double>.Create(architecture, seed: 1);
var x = Matrix<double>.Build.Dense(1, d, (_, j) => j % 2 == 0 ? 1.0 : -1.0);   // ‖x‖² = d
var y = Matrix<double>.Build.Dense(1, 1, 1.0);
double Lambda(FullyConnectedNetwork<double> net) => Math.Pow(net.VectorJacobianProduct(x, Matrix<double>.Build.Dense(1, 1, 1.0)).L2Norm(), 2);
double lambda0 = Lambda(network), eta = 3 / lambda0;
var (losses, lambdas) = (new List<double>(), new List<double>());
for (int step = 0; step < 60; step++)
{
    losses.Add(network.Loss(x, y, NetworkLoss.MeanSquaredError));
    lambdas.Add(Lambda(network));
    var next = network.Train(x, y, new NetworkTrainingOptions { LearningRate = eta, Epochs = 1 }).Network;
    network.Dispose();
    network = next;
}
double peak = losses.Max();
if (!(peak > losses[0] && losses[^1] < 1e-6 && lambdas[^1] * eta < 2)) throw new InvalidOperationException($"no catapult: peak {peak}, final loss {losses[^1]}, final ηλ {lambdas[^1] * eta}");
$"λ₀ = {lambda0:F3}, η = 3/λ₀; the loss rose {peak / losses[0]:F1}× and fell to {losses[^1]:E1}; ηλ went from 3 to {lambdas[^1] * eta:F2} (below 2)\""""),
    cell("""double[] steps = Enumerable.Range(0, losses.Count).Select(i => (double)i).ToArray();
Plots.Lines("catapult: GD at η = 3/λ₀", "step", "value", ("log10 loss", steps, losses.Select(l => Math.Log10(Math.Max(l, 1e-30))).ToArray()), ("ηλ (2 = stability edge)", steps, lambdas.Select(l => l * eta).ToArray()))"""),
])
json.dump(ntk, open("ntk-catapult.ipynb", "w"), indent=1, ensure_ascii=False)

hessian = notebook([
    cell("""# Hessian spectra of a small network

A network 64 → 32 → 32 → 10 (tanh) trained by gradient descent on 200 digits. The loss Hessian is applied by exact
Hessian-vector products and never formed: Lanczos gives its top eigenvalues (the sharpness), stochastic Lanczos
quadrature its spectral density, at initialisation and after training (`FeatureLearning.Diagnostics`, see
docs/diagnostics.md). CI runs this notebook with `dotnet-repl` and fails on any cell error.""", "markdown"),
    cell(REF),
    cell(REF2),
    cell(PLOT),
    cell("""using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;

var digits = LabeledDataSet.LoadCsv("../../data/digits.csv.gz");
var data = digits.Subset(Enumerable.Range(0, 200).ToArray());
var x = data.Features / 16.0;
var y = OneHot.Encode<double>(data.Labels, digits.Classes);
var architecture = new NetworkArchitecture { InputDimension = 64, HiddenWidths = [32, 32], OutputDimension = 10, Activation = Activation.Tanh };
var initial = FullyConnectedNetwork<double>.Create(architecture, seed: 0);
var trained = initial.Train(x, y, new NetworkTrainingOptions { LearningRate = 0.5, Epochs = 300 }).Network;
$"{initial.ParameterCount} parameters; loss {initial.Loss(x, y, NetworkLoss.MeanSquaredError):F4} at init, {trained.Loss(x, y, NetworkLoss.MeanSquaredError):F4} after 300 GD steps (η = 0.5, 2/η = 4)\""""),
    cell("""## Top eigenvalues by Lanczos""", "markdown"),
    cell("""var options = new LanczosOptions { Count = 5, Which = SpectrumEnd.Largest, MaxIterations = 80, Seed = 1 };
var top0 = Lanczos.Eigenpairs(SymmetricOperator.LossHessian(initial, x, y), options);
var top1 = Lanczos.Eigenpairs(SymmetricOperator.LossHessian(trained, x, y), options);
Console.WriteLine($"init:    {string.Join(", ", top0.Eigenvalues.Select(v => v.ToString("G4")))} ({top0.Iterations} products, converged {top0.Converged})");
Console.WriteLine($"trained: {string.Join(", ", top1.Eigenvalues.Select(v => v.ToString("G4")))} ({top1.Iterations} products, converged {top1.Converged})");"""),
    cell("""## Spectral densities (stochastic Lanczos quadrature)

Most eigenvalues sit near 0; a few outliers carry the curvature. The density is on a log scale.""", "markdown"),
    cell("""var slq = new SpectralDensityOptions { Runs = 4, Steps = 40, Seed = 2 };
Plots.Density(SpectralDensity.Estimate(SymmetricOperator.LossHessian(initial, x, y), slq), "loss Hessian at initialisation")"""),
    cell("""Plots.Density(SpectralDensity.Estimate(SymmetricOperator.LossHessian(trained, x, y), slq), "loss Hessian after training")"""),
])
json.dump(hessian, open("hessian-spectra.ipynb", "w"), indent=1, ensure_ascii=False)

