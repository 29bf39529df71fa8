// Convolutional RFM (Radhakrishnan, Beaglehole, Belkin, Pandit, "Mechanism of feature learning in convolutional
// neural networks") on the UCI digits and on the "local signal" task (each digit pasted at a random place in a frame
// of noise).
//
//   dotnet run -c Release --project samples/ConvRfm -- [--data local-signal|digits] [--train-size 500] [--test-size 500]
//       [--iterations 3] [--seed 0] [--backend managed] [--out convrfm-output] [--json]
//       [--pairing all-pairs|aligned] [--patch Q] [--stride S] [--kernel polynomial|laplace|gaussian] [--degree 6]
//       [--offset 1] [--bandwidth 5] [--ridge R] [--agop-power 0.5] [--normalization trace|max|frobenius|none]
//       [--agop-sample N] [--frame 16] [--noise 0.8] [--precision double|float]
//
// Defaults by data set (each can be overridden):
//   local-signal: polynomial kernel (x'Mz + 1)^6 on 5 x 5 patches, stride 2, ridge 1e-6, 16 x 16 frame, noise 0.8;
//   digits:       Laplace kernel L = 5 on 3 x 3 patches, stride 1, ridge 1e-5.
//
// Prints the test accuracy of every ConvRFM round next to plain Laplace kernel ridge on the pixels (the best of a
// bandwidth sweep, chosen on the test set, so the comparison favours the baseline) and the fixed convolutional
// kernel (the same base kernel with M = I, round 0). With --json: one JSON object per round and nothing else on
// stdout. Writes accuracy.png, eigenvalues.png and filter_K.png (the top eigenvectors of M reshaped as q x q
// filters) to --out. --precision float fits and predicts in single precision (the images stay double on the host and
// are converted once when their patches are cut).
using System.Diagnostics;
using System.Globalization;
using FeatureLearning.Compute;
using FeatureLearning.ConvRfm;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Samples;
using MathNet.Numerics.LinearAlgebra;

var options = new SampleOptions(args);
string dataName = options.Get("data", "local-signal").ToLowerInvariant();
int seed = options.Get("seed", 0);
int trainSize = options.Get("train-size", 500);
int testSize = options.Get("test-size", 500);
int iterations = options.Get("iterations", 3);
bool json = options.Has("json");
string outDir = options.Get("out", "convrfm-output");
var log = json ? TextWriter.Null : Console.Out;
using var backend = options.Backend();

var digits = LabeledDataSet.LoadCsv(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"));
if (trainSize < 1 || testSize < 1 || trainSize + testSize > digits.Count)
{
    throw new ArgumentException($"--train-size and --test-size must be positive and sum to at most {digits.Count}.");
}

var order = Enumerable.Range(0, digits.Count).ToArray();
new Random(seed).Shuffle(order);
var trainSet = digits.Subset(order[..trainSize]);
var testSet = digits.Subset(order[trainSize..(trainSize + testSize)]);
ImageBatch trainImages = LocalSignal.Digits(trainSet), testImages = LocalSignal.Digits(testSet);
int frame = options.Get("frame", 16);
double noise = options.Get("noise", 0.8);
bool localSignal = dataName == "local-signal";
string description = "UCI digits, 8 x 8";
switch (dataName)
{
    case "digits":
        break;
    case "local-signal":
        trainImages = LocalSignal.Create(trainImages, frame, noise, seed + 1);
        testImages = LocalSignal.Create(testImages, frame, noise, seed + 2);
        description = $"local signal: an 8 x 8 digit pasted at a random place in a {frame} x {frame} frame of N(0, {noise.ToString(CultureInfo.InvariantCulture)}^2) noise";
        break;
    default:
        throw new ArgumentException($"--data must be digits or local-signal, not '{dataName}'.");
}

var yTrain = OneHot.Encode<double>(trainSet.Labels, digits.Classes);
var yTest = OneHot.Encode<double>(testSet.Labels, digits.Classes);
log.WriteLine($"Backend: {backend.Describe()}");
log.WriteLine($"Data: {description}; {trainSize} train / {testSize} test images (seed {seed}).");

// Plain Laplace kernel ridge on the pixels: the best bandwidth of a sweep, chosen on the test set.
var clock = Stopwatch.StartNew();
double[] bandwidths = [1.0, 2.0, 5.0, 10.0, 20.0];
var laplace = bandwidths.Select(bandwidth =>
{
    var model = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(bandwidth), Ridge = 1e-3, Backend = backend }).Fit(trainImages.ToRows(), yTrain);
    return (Bandwidth: bandwidth, Accuracy: OneHot.Accuracy(model.PredictClass(testImages.ToRows()), testSet.Labels));
}).MaxBy(r => r.Accuracy);
log.WriteLine($"Laplace kernel ridge on the pixels: {laplace.Accuracy:P2} (best bandwidth L = {laplace.Bandwidth} of 1, 2, 5, 10, 20; {clock.Elapsed.TotalSeconds:F1} s).");

var pairing = options.Get("pairing", "all-pairs").ToLowerInvariant() switch
{
    "all-pairs" or "allpairs" => PatchPairing.AllPairs,
    "aligned" => PatchPairing.Aligned,
    var p => throw new ArgumentException($"--pairing must be all-pairs or aligned, not '{p}'."),
};
var convOptions = new ConvRfmOptions
{
    Kernel = options.Get("kernel", localSignal ? "polynomial" : "laplace").ToLowerInvariant() switch
    {
        "polynomial" => new PolynomialKernel(options.Get("degree", 6), options.Get("offset", 1.0)),
        "laplace" => new LaplaceKernel(options.Get("bandwidth", 5.0)),
        "gaussian" => new GaussianKernel(options.Get("bandwidth", 5.0)),
        var k => throw new ArgumentException($"--kernel must be polynomial, laplace or gaussian, not '{k}'."),
    },
    AgopPower = options.Get("agop-power", 0.5),
    Normalization = options.Get("normalization", "trace").ToLowerInvariant() switch
    {
        "max" => MetricNormalization.MaxEntry,
        "trace" => MetricNormalization.Trace,
        "frobenius" => MetricNormalization.Frobenius,
        "none" => MetricNormalization.None,
        var v => throw new ArgumentException($"--normalization must be max, trace, frobenius or none, not '{v}'."),
    },
    Ridge = options.Get("ridge", localSignal ? 1e-6 : 1e-5),
    Rounds = iterations,
    PatchSize = options.Get("patch", localSignal ? 5 : 3),
    Stride = options.Get("stride", localSignal ? 2 : 1),
    Pairing = pairing,
    AgopSampleSize = options.Has("agop-sample") ? options.Get("agop-sample", trainSize) : null,
    Seed = seed,
    Backend = backend,
};
bool single = options.Precision() == Precision.Single;
log.WriteLine($"ConvRFM: {convOptions.Kernel.Name} on {convOptions.PatchSize} x {convOptions.PatchSize} patches, stride {convOptions.Stride}, {pairing}, ridge {convOptions.Ridge}, {iterations} rounds, {(single ? "single" : "double")} precision.");
log.WriteLine();

clock.Restart();
var estimator = new ConvolutionalRfm(convOptions);
var conv = single
    ? Fitted(estimator.Fit(trainImages, yTrain.Map(v => (float)v), (testImages, yTest.Map(v => (float)v)), new ConsoleProgress()))
    : Fitted(estimator.Fit(trainImages, yTrain, (testImages, yTest), new ConsoleProgress()));
double fixedConv = conv.History[0].ValidationAccuracy;
double elapsed = 0;
if (!json)
{
    Console.WriteLine(" round | train acc | test acc | Laplace | fixed conv (M = I) | seconds");
    Console.WriteLine("-------+-----------+----------+---------+--------------------+--------");
}

foreach (var h in conv.History)
{
    elapsed += h.Seconds;
    if (json)
    {
        Console.WriteLine(
            $"{{\"iteration\":{h.Iteration},\"train_accuracy\":{Json(h.TrainAccuracy)},\"test_accuracy\":{Json(h.ValidationAccuracy)},\"laplace_accuracy\":{Json(laplace.Accuracy)}," +
            $"\"fixed_conv_accuracy\":{Json(fixedConv)},\"seconds\":{Json(h.Seconds)},\"kernel_seconds\":{Json(h.KernelSeconds)},\"solve_seconds\":{Json(h.SolveSeconds)},\"agop_seconds\":{Json(h.AgopSeconds)}}}");
    }
    else
    {
        Console.WriteLine($" {h.Iteration,5} | {h.TrainAccuracy,9:P1} | {h.ValidationAccuracy,8:P1} | {laplace.Accuracy,7:P1} | {fixedConv,18:P1} | {h.Seconds,6:F2}");
    }
}

log.WriteLine();
log.WriteLine($"ConvRFM {conv.History[^1].ValidationAccuracy:P2} after {iterations} rounds vs fixed convolutional kernel {fixedConv:P2} and Laplace {laplace.Accuracy:P2}; ConvRFM time {elapsed:F1} s (wall {clock.Elapsed.TotalSeconds:F1} s).");

Directory.CreateDirectory(outDir);
var rounds = conv.History.Select(h => (double)h.Iteration).ToArray();
var accuracyPlot = new ScottPlot.Plot();
accuracyPlot.Add.Scatter(rounds, conv.History.Select(h => h.ValidationAccuracy).ToArray()).LegendText = "ConvRFM test accuracy";
accuracyPlot.Add.HorizontalLine(laplace.Accuracy).LegendText = $"Laplace on pixels (L = {laplace.Bandwidth})";
accuracyPlot.Add.HorizontalLine(fixedConv).LegendText = "fixed conv kernel (M = I)";
accuracyPlot.Title($"ConvRFM on {dataName}");
accuracyPlot.XLabel("round");
accuracyPlot.YLabel("test accuracy");
accuracyPlot.ShowLegend();
accuracyPlot.SavePng(Path.Combine(outDir, "accuracy.png"), 800, 500);

var filters = conv.Filters;
var spectrum = new ScottPlot.Plot();
var eigenvalues = conv.FeatureMatrix.Evd(Symmetricity.Symmetric).EigenValues.Select(e => e.Real).OrderDescending().ToArray();
spectrum.Add.Bars(eigenvalues);
spectrum.Title("eigenvalues of the learned patch metric M");
spectrum.XLabel("index");
spectrum.SavePng(Path.Combine(outDir, "eigenvalues.png"), 700, 400);
int q = conv.PatchSize;
for (int f = 0; f < filters.Count; f++)
{
    var (value, filter) = filters[f];
    for (int channel = 0; channel < conv.Channels; channel++)
    {
        var pixels = new double[q, q];
        for (int y = 0; y < q; y++)
        {
            for (int x = 0; x < q; x++)
            {
                pixels[y, x] = filter[(((channel * q) + y) * q) + x];
            }
        }

        var plot = new ScottPlot.Plot();
        var heatmap = plot.Add.Heatmap(pixels);
        heatmap.Colormap = new ScottPlot.Colormaps.MellowRainbow();
        plot.Add.ColorBar(heatmap);
        plot.Title($"filter {f} (eigenvalue {value:G3})");
        plot.Axes.InvertY();
        plot.SavePng(Path.Combine(outDir, conv.Channels == 1 ? $"filter_{f}.png" : $"filter_{f}_channel_{channel}.png"), 360, 320);
    }
}

log.WriteLine($"Plots written to {Path.GetFullPath(outDir)} (accuracy.png, eigenvalues.png, filter_0..{filters.Count - 1}.png).");
return 0;

// What the report and the plots need from a model of either precision.
static (IReadOnlyList<RfmIteration> History, Matrix<double> FeatureMatrix, IReadOnlyList<(double Eigenvalue, double[] Filter)> Filters, int PatchSize, int Channels) Fitted<T>(ConvRfmModel<T> model)
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
    (model.History, model.FeatureMatrix, model.TopFilters(Math.Min(8, model.FeatureMatrix.RowCount)), model.PatchSize, model.Channels);

static string Json(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "null";
