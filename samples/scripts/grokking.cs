// RFM groks modular addition (p = 31, 70% of the pairs for training) from the FeatureLearning package: the test
// accuracy stays near chance for the first rounds, then reaches 100%.
//
//   dotnet run grokking.cs [-- modulus]
//
// Exits with 1 unless the first round is below 10% and the last round is at 100% test accuracy.
#:package FeatureLearning@0.1.0-preview
#:property PublishAot=false

using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Rfm;

int p = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 31;
var task = ModularArithmetic.Create(p, ModularOperation.Add);
var (train, test) = task.Split(0.7, seed: 0);
var model = new RecursiveFeatureMachine(RfmOptions.Grokking(16) with { RecordFeatureMatrices = true, SelectBy = SelectionMetric.Last })
    .Fit(task.Inputs<double>(train), task.Targets<double>(train), (task.Inputs<double>(test), task.Targets<double>(test)));

var metrics = model.FeatureMatrixHistory;
for (int t = 0; t < model.History.Count; t++)
{
    var round = model.History[t];
    Console.WriteLine($"round {t + 1,2}: test accuracy {round.ValidationAccuracy,6:P1}, circulant deviation of M {GrokkingMeasures.CirculantDeviation(metrics[t], p, ModularOperation.Add):F3}");
}

double first = model.History[0].ValidationAccuracy, last = model.History[^1].ValidationAccuracy;
Console.WriteLine($"Grokking a + b mod {p}: test accuracy {first:P1} after round 1, {last:P1} after round {model.History.Count}");
return first < 0.1 && last == 1.0 ? 0 : 1;
