// Low-rank matrix completion by lin-RFM from the FeatureLearning package: a planted 120 x 100 matrix of rank 3,
// 25% of its entries observed.
//
//   dotnet run matrix-completion.cs
//
// Exits with 1 unless the relative error on the entries that were not observed is below 1e-2.
#:package FeatureLearning@0.1.0-preview
#:property PublishAot=false

using FeatureLearning.Data;
using FeatureLearning.LinearRfm;

var (truth, observed) = PlantedProblems.LowRank(120, 100, 3, 3000, seed: 2);
var model = new MatrixCompletion(new MatrixCompletionOptions { Alpha = 1, Ridge = 0.05, MaxIterations = 400 }).Fit(observed, truth);
var best = model.History[model.SelectedIteration];
double bestHeldOut = model.History.Where(h => !double.IsNaN(h.HeldOutMse)).Min(h => h.HeldOutMse); // the selected record is the refit with the held-out entries

// The relative error over all entries (the observed ones are fitted, so this is dominated by the missing ones).
double relative = (model.Completed - truth).FrobeniusNorm() / truth.FrobeniusNorm();
Console.WriteLine($"lin-RFM completion, 120 x 100 rank 3, 3000 observed: {model.History.Count} iterations, best held-out MSE {bestHeldOut:E2}, MSE on the unobserved entries {best.UnobservedMse:E2}, relative error {relative:E2}");
return relative < 1e-2 ? 0 : 1;
