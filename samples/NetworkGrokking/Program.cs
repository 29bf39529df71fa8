// Grokking modular addition with a two-layer network (quadratic activation; Gromov 2023), its first layer's WᵀW
// measured with the grokking measures of the RFM sample and compared with RFM's M. The defaults grok at p = 23: the
// training set is fitted by epoch ~600, test accuracy stays near 0 until ~1800 and reaches 100% by ~4800. Weight decay
// is the knob: at 10⁻⁴ (with η = 50) or 10⁻³ (η = 20) the cubic network collapses to f = 0 (loss ½), at 0 it memorises
// without generalising in 1,500 epochs. Smaller initialisations (a grid on an H100, docs/networks.md): --init-scale 0.5
// groks too (100% test by epoch 4,000 at η = 50, by 2,000 at η = 200), 0.25 reaches 98% at η = 200, and 0.1 learns
// nothing in 6,000 epochs (the quadratic network's output scales as the cube of the init scale).
//
//   dotnet run -c Release --project samples/NetworkGrokking -- [--modulus 23] [--train-fraction 0.5] [--width 256]
//       [--init-scale 1] [--learning-rate 50] [--weight-decay 2e-5] [--epochs 6000] [--every 200] [--seed 0]
//       [--rfm-rounds 30] [--out network-grokking-output] [--json]
//
// Full-batch GD on the MSE of one-hot targets (FullyConnectedNetwork.Train in chunks of --every epochs, no momentum, so
// the chunks are one run). Per chunk: epoch, train/test loss and accuracy, and the circulant deviation of the first
// layer's WᵀW (2p × 2p); at the end RFM (Gaussian kernel, the Grokking sample's settings) and the alignment of WᵀW with
// its M. Plots: accuracy.png, loss.png (log10: the staircase of loss drops), measures.png.
using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Kernels;
using FeatureLearning.Networks;
using FeatureLearning.Rfm;
using FeatureLearning.Samples;
using FeatureLearning.Samples.NetworkGrokking;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Samples.LinePlots;

var options = new SampleOptions(args);
var settings = new NetworkGrokkingSettings
{
    Modulus = options.Get("modulus", 23), Width = options.Get("width", 256), TrainFraction = options.Get("train-fraction", 0.5),
    InitScale = options.Get("init-scale", 1.0), LearningRate = options.Get("learning-rate", 50.0), WeightDecay = options.Get("weight-decay", 2e-5),
    Epochs = options.Get("epochs", 6000), Every = options.Get("every", 200), Seed = options.Get("seed", 0),
};
int p = settings.Modulus;
bool json = options.Has("json");
var backend = options.Backend();
if (!json)
{
    Console.WriteLine($"a + b mod {p}: width {settings.Width}, train fraction {settings.TrainFraction}, init scale {settings.InitScale}, on {backend.Name}; GD η = {settings.LearningRate}, weight decay {settings.WeightDecay}.");
}

var rows = new List<GrokkingReport>();
var bar = new ProgressBar(settings.Epochs / settings.Every + 1);
var (network, task, train, test) = NetworkGrokkingRun.Run(settings, backend, row =>
{
    rows.Add(row);
    bar.Step();
    Console.WriteLine(json
        ? $"{{\"epoch\":{row.Epoch},\"train_loss\":{Json(row.TrainLoss)},\"test_loss\":{Json(row.TestLoss)},\"train_accuracy\":{Json(row.TrainAccuracy)},\"test_accuracy\":{Json(row.TestAccuracy)},\"circulant_deviation\":{Json(row.Deviation)}}}"
        : FormattableString.Invariant($"epoch {row.Epoch,6}: loss {row.TrainLoss,10:G4} / {row.TestLoss,10:G4}, accuracy {row.TrainAccuracy,7:P1} / {row.TestAccuracy,7:P1}, circulant deviation of WᵀW {row.Deviation:F4}"));
});
var (xTrain, yTrain) = (task.Inputs<double>(train), task.Targets<double>(train));
var (xTest, yTest) = (task.Inputs<double>(test), task.Targets<double>(test));

var gram = NetworkGrokkingRun.FirstLayerGram(network);
var rfm = new RecursiveFeatureMachine(RfmOptions.Grokking(options.Get("rfm-rounds", 30)) with { Kernel = new GaussianKernel(2.5), Ridge = 0, Backend = backend })
    .Fit(xTrain, yTrain, (xTest, yTest));
var m = rfm.FeatureMatrix;
double alignment = GrokkingMeasures.Alignment(gram, m);
double rfmDeviation = GrokkingMeasures.CirculantDeviation(m, p, ModularOperation.Add);
double rfmTest = rfm.History[^1].ValidationAccuracy;
Console.WriteLine(json
    ? $"{{\"network_circulant_deviation\":{Json(rows[^1].Deviation)},\"rfm_circulant_deviation\":{Json(rfmDeviation)},\"alignment_wtw_rfm_m\":{Json(alignment)},\"network_test_accuracy\":{Json(rows[^1].TestAccuracy)},\"rfm_test_accuracy\":{Json(rfmTest)}}}"
    : FormattableString.Invariant($"WᵀW: circulant deviation {rows[^1].Deviation:F4}; RFM's M: {(double.IsNaN(rfmDeviation) ? "undefined (RFM kept round 0, M = I)" : rfmDeviation.ToString("F4", System.Globalization.CultureInfo.InvariantCulture))} (RFM test accuracy {rfmTest:P1}); alignment ⟨WᵀW, M⟩ {alignment:F4}."));

string outDir = options.Get("out", "network-grokking-output");
Directory.CreateDirectory(outDir);
var t = rows.Select(r => (double)r.Epoch).ToArray();
string[] paths =
[
    SaveLines(Path.Combine(outDir, "accuracy.png"), $"a + b mod {p}, two-layer quadratic network", "epoch", "accuracy", [("train", t, rows.Select(r => r.TrainAccuracy).ToArray()), ("test", t, rows.Select(r => r.TestAccuracy).ToArray())]),
    SaveLines(Path.Combine(outDir, "loss.png"), "MSE", "epoch", "log10 loss", [("train", t, rows.Select(r => Math.Log10(r.TrainLoss)).ToArray()), ("test", t, rows.Select(r => Math.Log10(r.TestLoss)).ToArray())]),
    SaveLines(Path.Combine(outDir, "measures.png"), "circulant deviation of WᵀW", "epoch", "deviation", [("WᵀW", t, rows.Select(r => r.Deviation).ToArray())]),
];
foreach (string path in paths)
{
    Console.WriteLine(json ? PlotLine(path) : $"Plot written to {Path.GetFullPath(path)}");
}

network.Dispose();
return 0;
