// RFM on the UCI digits from the FeatureLearning package: fit on half, print the test accuracy per round.
//
//   dotnet run rfm-digits.cs [-- path/to/digits.csv.gz]
//
// Exits with 1 if the test accuracy is below 0.95 (it is about 0.98).
#:package FeatureLearning@0.1.0-preview
#:property PublishAot=false

using FeatureLearning.Data;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;

string path = args.Length > 0 ? args[0] : FindData("digits.csv.gz");
var data = LabeledDataSet.LoadCsv(path);
var (train, test) = data.Split(trainFraction: 0.5, seed: 0);
var (fit, validation) = train.Split(trainFraction: 0.8, seed: 1);   // the validation set picks the round
var model = new RecursiveFeatureMachine(new RfmOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 3 })
    .Fit(fit.Features / 16.0, OneHot.Encode(fit.Labels, data.Classes), validation: (validation.Features / 16.0, OneHot.Encode(validation.Labels, data.Classes)));
foreach (var round in model.History)
{
    Console.WriteLine(round);
}

double accuracy = OneHot.Accuracy(model.PredictClass(test.Features / 16.0), test.Labels);
Console.WriteLine($"RFM on digits: {fit.Count} train, {validation.Count} validation, {test.Count} test; round {model.SelectedIteration + 1} selected; test accuracy {accuracy:F4}");
return accuracy >= 0.95 ? 0 : 1;

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
