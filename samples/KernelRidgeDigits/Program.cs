// Kernel ridge regression on the UCI handwritten digits (1797 8x8 images, 10 classes).
//
//   dotnet run -c Release --project samples/KernelRidgeDigits -- [--backend managed] [--precision double]
//       [--kernel laplace|gaussian] [--bandwidth 10] [--ridge 1e-3] [--train-fraction 0.5] [--seed 0]
//
// Prints the backend, a bandwidth sweep with test accuracy, and the confusion matrix of the chosen setting.
using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Samples;
using MathNet.Numerics.LinearAlgebra;

var options = new SampleOptions(args);
using var backend = options.Backend();
Console.WriteLine($"Backend: {backend.Describe()}");

string dataPath = Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz");
var data = LabeledDataSet.LoadCsv(dataPath);
var (train, test) = data.Split(options.Get("train-fraction", 0.5), options.Get("seed", 0));
Console.WriteLine($"Data: UCI optical digits, {data.Count} images x {data.Features.ColumnCount} pixels; {train.Count} train / {test.Count} test (seed {options.Get("seed", 0)}).");

string kernelName = options.Get("kernel", "laplace");
double ridge = options.Get("ridge", 1e-3);
double chosen = options.Get("bandwidth", 10.0);
IKernelFunction MakeKernel(double bandwidth) => kernelName.ToUpperInvariant() switch
{
    "LAPLACE" => new LaplaceKernel(bandwidth),
    "GAUSSIAN" => new GaussianKernel(bandwidth),
    _ => throw new ArgumentException($"--kernel must be laplace or gaussian, not '{kernelName}'."),
};

if (options.Precision() == Precision.Single)
{
    Run<float>();
}
else
{
    Run<double>();
}

void Run<T>()
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // Pixels are 0..16: scale to [0, 1].
    var xTrain = (train.Features / 16.0).Map(T.CreateTruncating);
    var xTest = (test.Features / 16.0).Map(T.CreateTruncating);
    var yTrain = OneHot.Encode<T>(train.Labels, data.Classes);
    Console.WriteLine($"Precision: {PrecisionExtensions.Of<T>().ToName()}, kernel {kernelName}, ridge {ridge:G3}");
    Console.WriteLine();
    Console.WriteLine(" bandwidth | test accuracy | fit + predict (ms)");
    Console.WriteLine("-----------+---------------+-------------------");
    KernelRidgeModel<T>? best = null;
    foreach (double bandwidth in new[] { chosen / 4, chosen / 2, chosen, chosen * 2, chosen * 4 })
    {
        var sw = Stopwatch.StartNew();
        var model = new KernelRidge(new KernelRidgeOptions { Kernel = MakeKernel(bandwidth), Ridge = ridge, Backend = backend }).Fit(xTrain, yTrain);
        var predicted = model.PredictClass(xTest);
        double accuracy = OneHot.Accuracy(predicted, test.Labels);
        Console.WriteLine($" {bandwidth,9:G4} | {accuracy,12:P2} | {sw.Elapsed.TotalMilliseconds,17:F0}{(bandwidth == chosen ? "   <- chosen" : string.Empty)}");
        if (bandwidth == chosen)
        {
            best = model;
        }
    }

    Console.WriteLine();
    Console.WriteLine($"Model: {best}");
    PrintConfusion(best!.PredictClass(xTest), test.Labels, data.Classes);
}

static void PrintConfusion(int[] predicted, IReadOnlyList<int> labels, int classes)
{
    var counts = Matrix<double>.Build.Dense(classes, classes);
    for (int i = 0; i < labels.Count; i++)
    {
        counts[labels[i], predicted[i]] += 1;
    }

    Console.WriteLine("Confusion matrix (rows: true digit, columns: predicted):");
    Console.WriteLine("     " + string.Concat(Enumerable.Range(0, classes).Select(c => $"{c,5}")));
    for (int r = 0; r < classes; r++)
    {
        Console.WriteLine($"{r,4} " + string.Concat(Enumerable.Range(0, classes).Select(c => $"{counts[r, c],5}")));
    }

    Console.WriteLine($"Test accuracy: {OneHot.Accuracy(predicted, labels):P2} ({labels.Count} test images)");
}
