using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.LinearRfm;

namespace FeatureLearning.Tests.LinearRfm;

public sealed class LinearRfmTests
{
    private static readonly ManagedBackend Backend = new();

    [Fact]
    public void SparseRegressionRecoversAPlantedTenSparseVector()
    {
        // 10-sparse w in d = 1000 from n = 200 Gaussian samples: far fewer samples than features.
        var (x, y, w) = PlantedProblems.SparseRegression(200, 1000, 10, seed: 1);
        var model = new SparseRegression(new SparseRegressionOptions { Backend = Backend }).Fit(x, y, w);
        double relative = (model.Weights - w).L2Norm() / w.L2Norm();
        relative.Should().BeLessThan(1e-6);
        model.History.Count.Should().BeGreaterThan(1);
    }

    [Fact]
    public void MinimumNormSolutionAloneDoesNotRecoverIt()
    {
        // One iteration is the minimum-norm interpolant: the reweighting is what finds the sparse solution.
        var (x, y, w) = PlantedProblems.SparseRegression(200, 1000, 10, seed: 1);
        var model = new SparseRegression(new SparseRegressionOptions { Iterations = 1, Backend = Backend }).Fit(x, y);
        ((model.Weights - w).L2Norm() / w.L2Norm()).Should().BeGreaterThan(0.5);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void CompletesAPlantedLowRankMatrix(double alpha)
    {
        var (truth, observed) = PlantedProblems.LowRank(120, 100, 3, 3000, seed: 2);
        var model = new MatrixCompletion(new MatrixCompletionOptions { Alpha = alpha, Ridge = 0.05, Iterations = 400, Backend = Backend })
            .Fit(observed, truth);
        var last = model.History[model.BestIteration];
        last.TestMse.Should().BeLessThan(1e-3, $"α = {alpha} after {model.History.Count} iterations");
        model.History[0].TestMse.Should().BeGreaterThan(0.1);
        // The recorded test error is the error on the unobserved entries of the returned matrix.
        var completed = model.Completed;
        var seen = new HashSet<(int, int)>(Enumerable.Range(0, observed.Count).Select(e => (observed.Rows[e], observed.Columns[e])));
        double sse = 0;
        int count = 0;
        for (int i = 0; i < 120; i++)
        {
            for (int j = 0; j < 100; j++)
            {
                if (!seen.Contains((i, j)))
                {
                    sse += (completed[i, j] - truth[i, j]) * (completed[i, j] - truth[i, j]);
                    count++;
                }
            }
        }

        (sse / count).Should().BeApproximately(last.TestMse, 1e-12);
    }

    [Fact]
    public void PlantedLowRankProblemHasUnitMeanSquareAndDistinctEntries()
    {
        var (truth, observed) = PlantedProblems.LowRank(50, 40, 2, 500, seed: 3);
        truth.Enumerate().Average(v => v * v).Should().BeApproximately(1, 1e-12);
        truth.Rank().Should().Be(2);
        Enumerable.Range(0, 500).Select(e => (observed.Rows[e], observed.Columns[e])).Distinct().Should().HaveCount(500);
        observed.Values[7].Should().Be(truth[observed.Rows[7], observed.Columns[7]]);
        ((Action)(() => new ObservedEntries(2, 2, [0, 2], [0, 0], [1.0, 2.0]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rows");
        ((Action)(() => new MatrixCompletion(new MatrixCompletionOptions { Ridge = 0 }))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Ridge");
    }
}

public sealed class MatrixCompletionBatchingTests
{
    [Fact]
    public void RowsSharingObservedColumnsAreSolvedLikeSeparateRows()
    {
        // Rows 0..59 observe the same 30 columns (one shared factorization); rows 60..99 observe random columns.
        var (truth, random) = PlantedProblems.LowRank(100, 80, 2, 2400, seed: 5);
        var rowsList = new List<int>();
        var colsList = new List<int>();
        var values = new List<double>();
        for (int i = 0; i < 60; i++)
        {
            for (int j = 0; j < 80; j += 2)
            {
                rowsList.Add(i);
                colsList.Add(j);
                values.Add(truth[i, j]);
            }
        }

        for (int e = 0; e < random.Count; e++)
        {
            if (random.Rows[e] >= 60)
            {
                rowsList.Add(random.Rows[e]);
                colsList.Add(random.Columns[e]);
                values.Add(random.Values[e]);
            }
        }

        var observed = new ObservedEntries(100, 80, rowsList, colsList, values);
        var model = new MatrixCompletion(new MatrixCompletionOptions { Alpha = 1, Iterations = 300, HeldOutFraction = 0, Backend = new ManagedBackend() }).Fit(observed, truth);
        model.History[^1].TestMse.Should().BeLessThan(1e-3);
        model.History[0].TestMse.Should().BeGreaterThan(0.1);
    }
}
