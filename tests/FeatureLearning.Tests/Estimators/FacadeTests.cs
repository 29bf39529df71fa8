using FeatureLearning.Data;
using FeatureLearning.Estimators;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Estimators;

public sealed class FacadeTests
{
    private static readonly FeatureMachineOptions Options = new() { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 3, Backend = EstimatorData.Backend };

    [Fact]
    public void ClassifierMatchesARecursiveFeatureMachineOnScaledOneHotTargets()
    {
        var (train, test) = EstimatorData.SmallDigits();
        var (fit, validation) = train.StratifiedSplit(0.8, seed: 1);
        var model = new FeatureMachineClassifier(Options).Fit(fit.Features, fit.Labels, validation.Features, validation.Labels);

        var scaler = FeatureScaler.Fit(fit.Features);
        var direct = new RecursiveFeatureMachine(new RfmOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 3, Backend = EstimatorData.Backend }).Fit(
            scaler.Transform(fit.Features),
            OneHot.Encode(fit.Labels, 10),
            (scaler.Transform(validation.Features), OneHot.Encode(validation.Labels, 10)));

        model.Classes.Should().Equal(Enumerable.Range(0, 10));
        model.DecisionFunction(test.Features).Should().Be(direct.Predict(scaler.Transform(test.Features)));
        model.Predict(test.Features).Should().Equal(direct.PredictClass(scaler.Transform(test.Features)));
        model.Rfm!.SelectedIteration.Should().Be(direct.SelectedIteration);
        model.Rfm.History.Select(h => h.ValidationAccuracy).Should().Equal(direct.History.Select(h => h.ValidationAccuracy));
    }

    [Fact]
    public void OneRoundIsKernelRidgeOnTheRawFeaturesWhenNotStandardised()
    {
        var (train, test) = EstimatorData.SmallDigits();
        var options = Options with { Rounds = 1, Standardize = false };
        var model = new FeatureMachineClassifier(options).Fit(train.Features, train.Labels);
        var direct = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Backend = EstimatorData.Backend })
            .Fit(train.Features, OneHot.Encode(train.Labels, 10));

        model.Rfm.Should().BeNull();
        model.Scaler.Should().BeNull();
        model.DecisionFunction(test.Features).Should().Be(direct.Predict(test.Features));
    }

    [Fact]
    public void RegressorMatchesARecursiveFeatureMachineAndScoresRSquared()
    {
        var (x, y) = EstimatorData.Planted(300, 1);
        var (xt, yt) = EstimatorData.Planted(100, 2);
        var model = new FeatureMachineRegressor(Options with { Diagonal = true }).Fit(x, y);
        var scaler = FeatureScaler.Fit(x);
        var direct = new RecursiveFeatureMachine(new RfmOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 3, Diagonal = true, Backend = EstimatorData.Backend })
            .Fit(scaler.Transform(x), Matrix<double>.Build.Dense(300, 1, (i, _) => y[i]));

        var predicted = model.Predict(xt);
        predicted.Should().Equal(direct.Predict(scaler.Transform(xt)).Column(0).ToArray());

        double mean = yt.Average();
        double r2 = 1 - (yt.Select((v, i) => (v - predicted[i]) * (v - predicted[i])).Sum() / yt.Sum(v => (v - mean) * (v - mean)));
        model.Score(xt, yt).Should().Be(r2);
        r2.Should().BeGreaterThan(0.5, "RFM learns the planted target");
    }

    [Fact]
    public void EveryInputTypeGivesTheSamePredictions()
    {
        var (train, test) = EstimatorData.SmallDigits();
        var model = new FeatureMachineClassifier(Options with { Rounds = 1 }).Fit(train.Features.ToArray(), train.Labels);
        var expected = model.DecisionFunction(test.Features);

        // Digits are small integers, exact in single precision.
        model.DecisionFunction(test.Features.ToArray()).Should().Be(expected);
        model.DecisionFunction(test.Features.ToRowArrays()).Should().Be(expected);
        model.DecisionFunction(test.Features.Map(v => (float)v).ToArray()).Should().Be(expected);
        model.DecisionFunction(test.Features.Map(v => (float)v)).Should().Be(expected);
        new FeatureMachineClassifier(Options with { Rounds = 1 }).Fit(train.Features.ToRowArrays(), train.Labels).DecisionFunction(test.Features).Should().Be(expected);
    }

    [Fact]
    public void StringLabelsRoundTripThroughFitPredictAndSave()
    {
        var (train, test) = EstimatorData.SmallDigits();
        string[] names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
        var model = new FeatureMachineClassifier(Options).Fit(train.Features, train.Labels.Select(l => names[l]).ToArray());
        var byNumber = new FeatureMachineClassifier(Options).Fit(train.Features, train.Labels);

        model.Classes.Should().Equal(names.Order(StringComparer.Ordinal));
        model.Predict(test.Features).Should().Equal(byNumber.Predict(test.Features).Select(l => names[l]));
        model.Score(test.Features, test.Labels.Select(l => names[l]).ToArray()).Should().Be(byNumber.Score(test.Features, test.Labels));

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = FittedClassifier<string>.Load(stream);
        loaded.Classes.Should().Equal(model.Classes);
        loaded.Predict(test.Features).Should().Equal(model.Predict(test.Features));
        loaded.Rfm!.History.Should().Equal(model.Rfm!.History);

        stream.Position = 0;
        var asInt = () => FittedClassifier<int>.Load(stream);
        asInt.Should().Throw<InvalidDataException>().WithMessage("*string labels*");
    }

    [Fact]
    public void TheScalerIsAppliedAtPredictTimeAndSaved()
    {
        var (x, y) = EstimatorData.Planted(200, 3);
        var shifted = x.Map(v => (50 * v) + 7);
        var (xt, _) = EstimatorData.Planted(50, 4);
        var shiftedTest = xt.Map(v => (50 * v) + 7);
        var model = new FeatureMachineRegressor(Options).Fit(shifted, y);

        for (int j = 0; j < 8; j++)
        {
            model.Scaler!.Mean[j].Should().BeApproximately(shifted.Column(j).Average(), 1e-9);
        }

        var manual = model.KernelMachine.Predict(model.Scaler!.Transform(shiftedTest)).Column(0).ToArray();
        model.Predict(shiftedTest).Should().Equal(manual);
        model.KernelMachine.Predict(shiftedTest).Column(0).ToArray().Should().NotEqual(manual, "unscaled inputs give other outputs");

        string path = Path.Combine(Path.GetTempPath(), $"facade-{Guid.NewGuid():N}.flrn");
        try
        {
            model.Save(path);
            var loaded = FittedRegressor.Load(path);
            loaded.Scaler!.Mean.Should().Equal(model.Scaler.Mean);
            loaded.Scaler.Scale.Should().Equal(model.Scaler.Scale);
            loaded.Predict(shiftedTest).Should().Equal(manual);
            var asClassifier = () => FittedClassifier<int>.Load(path);
            asClassifier.Should().Throw<InvalidDataException>();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ProbabilitiesAreTheSoftmaxOfTheOutputsAndSumToOne()
    {
        var (train, test) = EstimatorData.SmallDigits();
        var model = new FeatureMachineClassifier(Options with { Rounds = 1, Temperature = 0.5 }).Fit(train.Features, train.Labels);
        var p = model.PredictProbabilities(test.Features);
        var f = model.DecisionFunction(test.Features);
        var predicted = model.Predict(test.Features);
        for (int i = 0; i < p.RowCount; i++)
        {
            p.Row(i).Sum().Should().BeApproximately(1, 1e-12);
            double z = f.Row(i).Sum(v => Math.Exp(v / 0.5));
            for (int k = 0; k < p.ColumnCount; k++)
            {
                p[i, k].Should().BeApproximately(Math.Exp(f[i, k] / 0.5) / z, 1e-12);
            }

            model.Classes[p.Row(i).MaximumIndex()].Should().Be(predicted[i]);
        }
    }

    [Fact]
    public void ScoreIsTheFractionOfCorrectPredictions()
    {
        var (train, test) = EstimatorData.SmallDigits();
        var model = new FeatureMachineClassifier(Options with { Rounds = 1 }).Fit(train.Features, train.Labels);
        var predicted = model.Predict(test.Features);
        double direct = (double)predicted.Where((p, i) => p == test.Labels[i]).Count() / test.Count;
        model.Score(test.Features, test.Labels).Should().Be(direct);
        direct.Should().BeGreaterThan(0.9);
    }

    [Fact]
    public void BadInputIsRefusedNamingTheArgument()
    {
        var classifier = new FeatureMachineClassifier(Options with { Rounds = 1 });
        double[][] ragged = [[1, 2], [3]];
        var x = new double[,] { { 0, 1 }, { 1, 0 }, { 2, 2 } };
        int[] labels = [0, 1, 0];

        FluentActions.Invoking(() => classifier.Fit(ragged, new[] { 0, 1 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "x").WithMessage("*ragged*");
        FluentActions.Invoking(() => classifier.Fit(x, new[] { 0, 1 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "y");
        FluentActions.Invoking(() => classifier.Fit(new double[,] { { 0, double.NaN }, { 1, 0 }, { 2, 2 } }, labels)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "x").WithMessage("*NaN*");
        FluentActions.Invoking(() => classifier.Fit(x, new[] { 0, 0, 0 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "y").WithMessage("*two classes*");
        FluentActions.Invoking(() => classifier.Fit(x, labels, new double[,] { { double.NaN, 0 } }, new[] { 0 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "xValidation");
        FluentActions.Invoking(() => classifier.Fit(x, labels, new double[,] { { 0, 0 } }, new[] { 7 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "yValidation");
        FluentActions.Invoking(() => classifier.Fit(x, labels, new double[,] { { 0, 0, 0 } }, new[] { 0 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "xValidation");
        FluentActions.Invoking(() => classifier.Fit((double[,]?)null, labels)).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "x");

        var model = classifier.Fit(x, labels);
        FluentActions.Invoking(() => model.Predict(new double[,] { { 0, 1, 2 } })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "x");
        FluentActions.Invoking(() => model.Score(x, new[] { 0 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "y");

        var regressor = new FeatureMachineRegressor(Options with { Rounds = 1 });
        FluentActions.Invoking(() => regressor.Fit(x, new[] { 0, double.NaN, 1 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "y").WithMessage("*NaN*");
        FluentActions.Invoking(() => regressor.Fit(x, new[] { 0.0, 1 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "y");
        FluentActions.Invoking(() => regressor.Fit(x, [0.0, 1, 2]).Score(x, [1.0, 1, 1])).Should().Throw<ArgumentException>().Where(e => e.ParamName == "y").WithMessage("*R²*");
        FluentActions.Invoking(() => new FeatureMachineClassifier(Options with { Temperature = 0 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "Temperature");
    }

    [Fact]
    public void OnRoundDeliversEveryRoundInOrderBeforeFitReturns()
    {
        var (train, test) = EstimatorData.SmallDigits();
        var rounds = new List<RfmIteration>();
        var threads = new HashSet<int>();
        var options = Options with
        {
            Rounds = 4,
            OnRound = r =>
            {
                rounds.Add(r);
                threads.Add(Environment.CurrentManagedThreadId);
            },
        };
        var model = new FeatureMachineClassifier(options).Fit(train.Features, train.Labels, test.Features, test.Labels);

        rounds.Select(r => r.Iteration).Should().Equal(0, 1, 2, 3);
        rounds.Should().Equal(model.Rfm!.History);
        threads.Should().Equal(Environment.CurrentManagedThreadId);
        model.Rfm.History[model.Rfm.SelectedIteration].Iteration.Should().Be(model.Rfm.SelectedIteration, "rounds are numbered from 0 everywhere");
        rounds[0].ToString().Should().StartWith("round 0 of 0–3:");
        rounds[3].ToString().Should().StartWith("round 3 of 0–3:");
        model.Rfm.ToString().Should().Contain($"selected round {model.Rfm.SelectedIteration}");
    }

    [Fact]
    public void TheRfmOnRoundOptionIsCalledSynchronouslyToo()
    {
        var (x, y) = EstimatorData.Planted(150, 5);
        var seen = new List<int>();
        var options = new RfmOptions { Rounds = 3, Backend = EstimatorData.Backend, OnRound = r => seen.Add(r.Iteration) };
        var model = new RecursiveFeatureMachine(options).Fit(x, Matrix<double>.Build.Dense(150, 1, (i, _) => y[i]));
        seen.Should().Equal(0, 1, 2);
        model.History.Select(h => h.Iteration).Should().Equal(seen);
    }
}
