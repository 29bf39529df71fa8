// Kernel ridge regression with a Laplace kernel on the UCI digits from the FeatureLearning package, saved and loaded.
//
//   dotnet run kernel-ridge.cs [-- path/to/digits.csv.gz]
//
// Exits with 1 if the test accuracy is below 0.95 (it is about 0.98) or the loaded model predicts differently.
#:package FeatureLearning@0.1.0-preview
#:property PublishAot=false

using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;

string path = args.Length > 0 ? args[0] : FindData("digits.csv.gz");
var data = LabeledDataSet.LoadCsv(path);
var (train, test) = data.Split(trainFraction: 0.5, seed: 0);
var model = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3 })
    .Fit(train.Features / 16.0, OneHot.Encode(train.Labels, data.Classes));
int[] predicted = model.PredictClass(test.Features / 16.0);
double accuracy = OneHot.Accuracy(predicted, test.Labels);
Console.WriteLine($"Kernel ridge on digits: {train.Count} train, {test.Count} test, test accuracy {accuracy:F4}");

string file = Path.Combine(Path.GetTempPath(), $"kernel-ridge-{Environment.ProcessId}.flrn");
model.Save(file);
var loaded = KernelRidgeModel<double>.Load(file);
File.Delete(file);
bool same = loaded.PredictClass(test.Features / 16.0).SequenceEqual(predicted);
Console.WriteLine($"Saved and loaded: {(same ? "same predictions" : "DIFFERENT predictions")}");
return accuracy >= 0.95 && same ? 0 : 1;

// The repository's data folder, found from the current directory upwards.
static string FindData(string name)
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", name);
        if (File.Exists(candidate))
        {
            return candidate;
        }
    }

    throw new FileNotFoundException($"data/{name} was not found above {Environment.CurrentDirectory}; pass its path as the first argument.");
}
