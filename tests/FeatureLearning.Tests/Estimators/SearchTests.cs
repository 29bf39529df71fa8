using FeatureLearning.Estimators;
using FeatureLearning.Kernels;

namespace FeatureLearning.Tests.Estimators;

public sealed class SearchTests
{
    private static readonly FeatureMachineOptions Options = new() { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 1, Backend = EstimatorData.Backend };

    [Fact]
    public void KFoldsAreDisjointCoverEveryRowAndFollowTheSeed()
    {
        var folds = CrossValidation.KFold(23, 4, seed: 1);
        folds.Should().HaveCount(4);
        folds.SelectMany(f => f.Test).Order().Should().Equal(Enumerable.Range(0, 23));
        foreach (var f in folds)
        {
            f.Train.Intersect(f.Test).Should().BeEmpty();
            f.Train.Concat(f.Test).Order().Should().Equal(Enumerable.Range(0, 23));
            f.Test.Count.Should().BeInRange(5, 6);
        }

        CrossValidation.KFold(23, 4, seed: 1).Select(f => f.Test).Should().BeEquivalentTo(folds.Select(f => f.Test), o => o.WithStrictOrdering());
        CrossValidation.KFold(23, 4, seed: 2).Select(f => f.Test.ToArray()).Should().NotBeEquivalentTo(folds.Select(f => f.Test.ToArray()), o => o.WithStrictOrdering());
        FluentActions.Invoking(() => CrossValidation.KFold(3, 4, 0)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "folds");
    }

    [Fact]
    public void StratifiedFoldsKeepTheClassProportions()
    {
        var labels = EstimatorData.Digits.Labels;
        var folds = CrossValidation.StratifiedKFold(labels, 5, seed: 3);
        folds.SelectMany(f => f.Test).Order().Should().Equal(Enumerable.Range(0, labels.Count));
        foreach (var f in folds)
        {
            f.Train.Intersect(f.Test).Should().BeEmpty();
            for (int c = 0; c < 10; c++)
            {
                int inClass = labels.Count(l => l == c);
                f.Test.Count(i => labels[i] == c).Should().BeInRange(inClass / 5, (inClass / 5) + 1, $"class {c} is dealt evenly to the folds");
            }

            f.Test.Count.Should().BeInRange(labels.Count / 5, (labels.Count / 5) + 1);
        }

        CrossValidation.StratifiedKFold(labels, 5, seed: 3).Select(f => f.Test).Should().BeEquivalentTo(folds.Select(f => f.Test), o => o.WithStrictOrdering());
        CrossValidation.StratifiedKFold(labels, 5, seed: 4)[0].Test.Should().NotEqual(folds[0].Test);
    }

    [Fact]
    public void CrossValidationScoresAreTheHeldOutScoresOfDirectFits()
    {
        var (train, _) = EstimatorData.SmallDigits();
        var estimator = new FeatureMachineClassifier(Options);
        var scores = CrossValidation.Evaluate(estimator, train.Features, train.Labels, folds: 3, seed: 7);

        var folds = CrossValidation.StratifiedKFold(train.Labels, 3, seed: 7);
        var direct = folds.Select(f =>
        {
            var fitPart = train.Subset(f.Train);
            var testPart = train.Subset(f.Test);
            var model = estimator.Fit(fitPart.Features, fitPart.Labels);
            return (double)model.Predict(testPart.Features).Where((p, i) => p == testPart.Labels[i]).Count() / testPart.Count;
        }).ToArray();

        scores.FoldScores.Should().Equal(direct);
        scores.Mean.Should().BeApproximately(direct.Average(), 1e-15);
        scores.StandardDeviation.Should().BeApproximately(Math.Sqrt(direct.Select(v => (v - direct.Average()) * (v - direct.Average())).Average()), 1e-15);
    }

    [Fact]
    public void GridSearchPicksTheBestMeanAndRefitsItOnAllTheData()
    {
        var (train, test) = EstimatorData.SmallDigits();
        var space = new SearchSpace { Bandwidths = [0.5, 10], Ridges = [1e-3, 10], Rounds = [1, 2], Diagonal = [false, true] };
        var search = new HyperParameterSearch(space, folds: 3, seed: 2);
        var result = search.Fit(new FeatureMachineClassifier(Options), train.Features, train.Labels);

        // Rounds = 1 is not repeated for diagonal and full M: 2 · 2 · (1 + 2) candidates.
        result.Candidates.Should().HaveCount(12);
        result.Candidates.Select(c => c.Options).Should().OnlyHaveUniqueItems();
        double bestMean = result.Candidates.Max(c => c.Scores.Mean);
        result.Best.Should().Be(result.Candidates.First(c => c.Scores.Mean == bestMean));
        result.Candidates.Should().OnlyContain(c => c.Scores.FoldScores.Count == 3);

        var again = CrossValidation.Evaluate(new FeatureMachineClassifier(result.Best.Options), train.Features, train.Labels, folds: 3, seed: 2);
        again.FoldScores.Should().Equal(result.Best.Scores.FoldScores);

        var direct = new FeatureMachineClassifier(result.Best.Options).Fit(train.Features, train.Labels);
        result.BestModel.DecisionFunction(test.Features).Should().Be(direct.DecisionFunction(test.Features));
        result.ToString().Should().Contain("* " + result.Best.Options.Describe());
    }

    [Fact]
    public void RandomSearchDrawsDistinctGridPointsBySeed()
    {
        var space = new SearchSpace { Kernels = [new LaplaceKernel(1), new GaussianKernel(1)], Bandwidths = [1, 2, 4], Ridges = [1e-3, 1e-2] };
        var grid = new HyperParameterSearch(space).Candidates(Options);
        grid.Should().HaveCount(12);
        grid.Select(o => o.Kernel).Should().Contain(new GaussianKernel(4));

        var a = new HyperParameterSearch(space, seed: 5, randomCandidates: 4).Candidates(Options);
        var b = new HyperParameterSearch(space, seed: 5, randomCandidates: 4).Candidates(Options);
        var c = new HyperParameterSearch(space, seed: 6, randomCandidates: 4).Candidates(Options);
        a.Should().HaveCount(4).And.OnlyHaveUniqueItems().And.Equal(b);
        grid.Should().Contain(a);
        c.Should().NotEqual(a);
    }

    [Fact]
    public void RegressorSearchScoresRSquaredOnPlainFolds()
    {
        var (x, y) = EstimatorData.Planted(240, 8);
        var result = new HyperParameterSearch(new SearchSpace { Rounds = [1, 3] }, folds: 3, seed: 1)
            .Fit(new FeatureMachineRegressor(Options), x, y);
        result.Best.Options.Rounds.Should().Be(3, "RFM learns the planted coordinates that kernel ridge misses");
        var folds = CrossValidation.KFold(240, 3, seed: 1);
        var first = folds[0];
        var fitted = new FeatureMachineRegressor(result.Best.Options).Fit(CrossValidation.Rows(x, first.Train), first.Train.Select(i => y[i]).ToArray());
        result.Best.Scores.FoldScores[0].Should().Be(fitted.Score(CrossValidation.Rows(x, first.Test), first.Test.Select(i => y[i]).ToArray()));
    }

    [Fact]
    public void ABadSearchSpaceIsRefusedNamingTheField()
    {
        var ntk = new SearchSpace { Kernels = [new PolynomialKernel(2, 1)], Bandwidths = [1] };
        FluentActions.Invoking(() => new HyperParameterSearch(ntk).Candidates(Options)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "Bandwidths");
        FluentActions.Invoking(() => new HyperParameterSearch(new SearchSpace { Ridges = [] }).Candidates(Options)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "Ridges");
        FluentActions.Invoking(() => new HyperParameterSearch(new SearchSpace { Ridges = [-1] }).Candidates(Options)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "Ridge");
        FluentActions.Invoking(() => new HyperParameterSearch(new SearchSpace(), folds: 1)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "folds");
    }
}
