// Grokking modular addition with a two-layer network (quadratic activation; Gromov 2023), its first layer's WᵀW
// measured with the grokking measures of the RFM sample and compared with RFM's M. The defaults grok at p = 23: the
// training set is fitted by epoch ~600, test accuracy stays near 0 until ~1800 and reaches 100% by ~4800. Weight decay
// is the knob: at 10⁻⁴ (with η = 50) or 10⁻³ (η = 20) the cubic network collapses to f = 0 (loss ½), at 0 it memorises
// without generalising in 1,500 epochs. A "small" initialisation (--init-scale below 1) has not been tuned: at 0.5 with
// η = 1 and decay 10⁻³ nothing is learned in 1,000 epochs.
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
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Samples.LinePlots;

var options = new SampleOptions(args);
int p = options.Get("modulus", 23), width = options.Get("width", 256), epochs = options.Get("epochs", 6000), every = options.Get("every", 200), seed = options.Get("seed", 0);
double trainFraction = options.Get("train-fraction", 0.5);
bool json = options.Has("json");
var backend = options.Backend();
var task = ModularArithmetic.Create(p, ModularOperation.Add);
var (train, test) = task.Split(trainFraction, seed);
var (xTrain, yTrain) = (task.Inputs<double>(train), task.Targets<double>(train));
var (xTest, yTest) = (task.Inputs<double>(test), task.Targets<double>(test));
var architecture = new NetworkArchitecture
{
    InputDimension = 2 * p, HiddenWidths = [width], OutputDimension = p, Activation = Activation.Quadratic,
    Parameterization = Parameterization.Ntk, WeightStd = 1, BiasStd = 0, OutputScale = 1,
};
var gd = new NetworkTrainingOptions { LearningRate = options.Get("learning-rate", 50.0), WeightDecay = options.Get("weight-decay", 2e-5), Epochs = every };
var network = FullyConnectedNetwork<double>.Create(architecture, seed, options.Get("init-scale", 1.0), backend);
if (!json)
{
    Console.WriteLine($"a + b mod {p}: {train.Length} train / {test.Length} test; {network}; GD η = {gd.LearningRate}, weight decay {gd.WeightDecay}.");
}

var rows = new List<(int Epoch, double TrainLoss, double TestLoss, double TrainAcc, double TestAcc, double Deviation)>();
var bar = new ProgressBar(epochs / every + 1);
for (int epoch = 0; ; epoch += every)
{
    var row = (epoch, network.Loss(xTrain, yTrain, NetworkLoss.MeanSquaredError), network.Loss(xTest, yTest, NetworkLoss.MeanSquaredError),
        Accuracy(network.Predict(xTrain), task.Labels(train)), Accuracy(network.Predict(xTest), task.Labels(test)), GrokkingMeasures.CirculantDeviation(FirstLayerGram(network), p, ModularOperation.Add));
    rows.Add(row);
    bar.Step();
    Console.WriteLine(json
        ? $"{{\"epoch\":{epoch},\"train_loss\":{Json(row.Item2)},\"test_loss\":{Json(row.Item3)},\"train_accuracy\":{Json(row.Item4)},\"test_accuracy\":{Json(row.Item5)},\"circulant_deviation\":{Json(row.Item6)}}}"
        : FormattableString.Invariant($"epoch {epoch,6}: loss {row.Item2,10:G4} / {row.Item3,10:G4}, accuracy {row.Item4,7:P1} / {row.Item5,7:P1}, circulant deviation of WᵀW {row.Item6:F4}"));
    if (epoch >= epochs || !double.IsFinite(row.Item2))
    {
        break;
    }

    var result = network.Train(xTrain, yTrain, gd);
    network.Dispose();
    network = result.Network;
}

var gram = FirstLayerGram(network);
var rfm = new RecursiveFeatureMachine(RfmOptions.Grokking(options.Get("rfm-rounds", 30)) with { Kernel = new GaussianKernel(2.5), Ridge = 0, Backend = backend })
    .Fit(xTrain, yTrain, (xTest, yTest));
var m = rfm.FeatureMatrix;
double alignment = GrokkingMeasures.Alignment(gram, m);
double rfmDeviation = GrokkingMeasures.CirculantDeviation(m, p, ModularOperation.Add);
double rfmTest = rfm.History[^1].ValidationAccuracy;
Console.WriteLine(json
    ? $"{{\"network_circulant_deviation\":{Json(rows[^1].Deviation)},\"rfm_circulant_deviation\":{Json(rfmDeviation)},\"alignment_wtw_rfm_m\":{Json(alignment)},\"network_test_accuracy\":{Json(rows[^1].TestAcc)},\"rfm_test_accuracy\":{Json(rfmTest)}}}"
    : FormattableString.Invariant($"WᵀW: circulant deviation {rows[^1].Deviation:F4}; RFM's M: {rfmDeviation:F4} (RFM test accuracy {rfmTest:P1}); alignment ⟨WᵀW, M⟩ {alignment:F4}."));

string outDir = options.Get("out", "network-grokking-output");
Directory.CreateDirectory(outDir);
var t = rows.Select(r => (double)r.Epoch).ToArray();
string[] paths =
[
    SaveLines(Path.Combine(outDir, "accuracy.png"), $"a + b mod {p}, two-layer quadratic network", "epoch", "accuracy", [("train", t, rows.Select(r => r.TrainAcc).ToArray()), ("test", t, rows.Select(r => r.TestAcc).ToArray())]),
    SaveLines(Path.Combine(outDir, "loss.png"), "MSE", "epoch", "log10 loss", [("train", t, rows.Select(r => Math.Log10(r.TrainLoss)).ToArray()), ("test", t, rows.Select(r => Math.Log10(r.TestLoss)).ToArray())]),
    SaveLines(Path.Combine(outDir, "measures.png"), "circulant deviation of WᵀW", "epoch", "deviation", [("WᵀW", t, rows.Select(r => r.Deviation).ToArray())]),
];
foreach (string path in paths)
{
    Console.WriteLine(json ? PlotLine(path) : $"Plot written to {Path.GetFullPath(path)}");
}

network.Dispose();
return 0;

static double Accuracy(Matrix<double> f, int[] labels) => Enumerable.Range(0, labels.Length).Count(i => f.Row(i).MaximumIndex() == labels[i]) / (double)labels.Length;

// WᵀW of the first layer (2p × 2p): W₀ is the first m·2p parameters, row-major m × 2p.
static Matrix<double> FirstLayerGram(FullyConnectedNetwork<double> network)
{
    int d = network.Architecture.InputDimension, m = network.Architecture.HiddenWidths[0];
    var w = Matrix<double>.Build.DenseOfRowMajor(m, d, network.GetParameters().SubVector(0, m * d).ToArray());
    return w.TransposeThisAndMultiply(w);
}
