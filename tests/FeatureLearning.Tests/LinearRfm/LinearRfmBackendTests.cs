using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.LinearRfm;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace FeatureLearning.Tests.LinearRfm;

/// <summary>lin-RFM on the backend: the row solves against a dense reference, float against double, and the error records.</summary>
public sealed class LinearRfmBackendTests(ITestOutputHelper output)
{
    private static readonly ManagedBackend Backend = new();

    /// <summary>
    /// The iteration written out with MathNet's dense algebra, one row at a time (P[I,I] + λI solved by its own Cholesky,
    /// W_i = a_iᵀP[I,:], observed entries kept, P ← (WᵀW/n)^{2α}): the computation MatrixCompletion did before its solves
    /// moved to the backend.
    /// </summary>
    private static (Matrix<double> W, List<double> TrainMse) DenseReference(ObservedEntries observed, double alpha, double ridge, int iterations)
    {
        int n = observed.RowCount, d = observed.ColumnCount;
        var byRow = Enumerable.Range(0, n).Select(_ => new List<(int Column, double Value)>()).ToArray();
        for (int e = 0; e < observed.Count; e++)
        {
            byRow[observed.Rows[e]].Add((observed.Columns[e], observed.Values[e]));
        }

        var p = Matrix<double>.Build.DenseIdentity(d);
        var w = Matrix<double>.Build.Dense(n, d);
        var trainMse = new List<double>();
        for (int t = 0; t < iterations; t++)
        {
            w = Matrix<double>.Build.Dense(n, d);
            double sse = 0;
            for (int i = 0; i < n; i++)
            {
                var entries = byRow[i].OrderBy(x => x.Column).ToArray();
                int k = entries.Length;
                var a = Matrix<double>.Build.Dense(k, k, (r, c) => p[entries[r].Column, entries[c].Column] + (r == c ? ridge : 0));
                var y = Vector<double>.Build.Dense(k, r => entries[r].Value);
                var coefficients = a.Cholesky().Solve(y);
                var row = Vector<double>.Build.Dense(d);
                for (int r = 0; r < k; r++)
                {
                    row += coefficients[r] * p.Row(entries[r].Column);
                }

                foreach (var (column, value) in entries)
                {
                    sse += (row[column] - value) * (row[column] - value);
                    row[column] = value;
                }

                w.SetRow(i, row);
            }

            var g = w.TransposeThisAndMultiply(w) / n;
            p = alpha switch
            {
                0.5 => g,
                1.0 => g * g,
                _ => throw new ArgumentOutOfRangeException(nameof(alpha)),
            };
            trainMse.Add(sse / observed.Count);
        }

        return (w, trainMse);
    }

    private static double RelativeGap(Matrix<double> a, Matrix<double> b) => (a - b).FrobeniusNorm() / b.FrobeniusNorm();

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void BackendSolvesMatchTheDenseRowByRowReference(double alpha)
    {
        // Random rows (one group each) plus 15 rows that share one column set (one group, 15 right-hand sides).
        var (truth, random) = PlantedProblems.LowRank(45, 30, 2, 500, seed: 21);
        var keep = Enumerable.Range(0, random.Count).Where(e => random.Rows[e] >= 15).ToArray();
        var shared = random.Subset(keep);
        var rows = shared.Rows.ToList();
        var cols = shared.Columns.ToList();
        var values = shared.Values.ToList();
        for (int i = 0; i < 15; i++)
        {
            for (int j = 1; j < 30; j += 3)
            {
                rows.Add(i);
                cols.Add(j);
                values.Add(truth[i, j]);
            }
        }

        var observed = new ObservedEntries(45, 30, rows, cols, values);
        const int iterations = 12;
        var model = new MatrixCompletion(new MatrixCompletionOptions { Alpha = alpha, MaxIterations = iterations, HeldOutFraction = 0, Backend = Backend }).Fit(observed);
        var (w, trainMse) = DenseReference(observed, alpha, 0.05, iterations);

        model.SelectedIteration.Should().Be(iterations - 1);
        double gap = RelativeGap(model.Completed, w);
        output.WriteLine($"alpha {alpha}: relative Frobenius gap to the dense reference {gap:E2}");
        gap.Should().BeLessThan(1e-10);
        for (int t = 0; t < iterations; t++)
        {
            model.History[t].TrainMse.Should().BeApproximately(trainMse[t], 1e-10 * trainMse[t], $"iteration {t}");
        }
    }

    [Fact]
    public void FloatCompletionAgreesWithDoubleOnThePlantedProblem()
    {
        var (truth, observed) = PlantedProblems.LowRank(120, 100, 3, 3000, seed: 2);
        var estimator = new MatrixCompletion(new MatrixCompletionOptions { Alpha = 1, Ridge = 0.05, MaxIterations = 400, Backend = Backend });
        var inDouble = estimator.Fit(observed, truth);
        var inSingle = estimator.Fit(observed, truth.Map(v => (float)v));
        var single = inSingle.Completed.Map(v => (double)v);
        double gap = RelativeGap(single, inDouble.Completed);
        double singleError = inSingle.History[inSingle.SelectedIteration].UnobservedMse, doubleError = inDouble.History[inDouble.SelectedIteration].UnobservedMse;
        output.WriteLine($"float vs double: relative Frobenius gap {gap:E2}; unobserved MSE float {singleError:E2} (iteration {inSingle.SelectedIteration}), double {doubleError:E2} (iteration {inDouble.SelectedIteration})");
        singleError.Should().BeLessThan(1e-3);
        RelativeGap(single, truth).Should().BeLessThan(0.05);
        gap.Should().BeLessThan(1e-5);
    }

    [Fact]
    public void FloatSparseRegressionAgreesWithDoubleOnThePlantedProblem()
    {
        var (x, y, w) = PlantedProblems.SparseRegression(200, 1000, 10, seed: 1);
        var estimator = new SparseRegression(new SparseRegressionOptions { Backend = Backend });
        var inDouble = estimator.Fit(x, y, w);
        var inSingle = estimator.Fit(x.Map(v => (float)v), y.Map(v => (float)v), w.Map(v => (float)v));
        var single = inSingle.Weights.Map(v => (double)v);
        double singleError = (single - w).L2Norm() / w.L2Norm(), gap = (single - inDouble.Weights).L2Norm() / inDouble.Weights.L2Norm();
        output.WriteLine($"float: relative error of w {singleError:E2} after {inSingle.History.Count} iterations; gap to double {gap:E2}");
        singleError.Should().BeLessThan(1e-4);
        gap.Should().BeLessThan(1e-4);
        inSingle.History[^1].RelativeWeightError.Should().BeApproximately(singleError * singleError, 1e-3 * singleError * singleError);
    }

    [Fact]
    public void EachEstimatorRecordsItsOwnTruthError()
    {
        var (x, y, w) = PlantedProblems.SparseRegression(30, 50, 3, seed: 4);
        var sparse = new SparseRegression(new SparseRegressionOptions { MaxIterations = 3, Backend = Backend }).Fit(x, y, w);
        sparse.History.Should().OnlyContain(h => double.IsNaN(h.UnobservedMse) && double.IsNaN(h.HeldOutMse) && h.RelativeWeightError >= 0);
        double relative = (sparse.Weights - w).L2Norm() / w.L2Norm();
        sparse.History[^1].RelativeWeightError.Should().BeApproximately(relative * relative, 1e-9 * relative * relative);

        var (truth, observed) = PlantedProblems.LowRank(20, 15, 2, 150, seed: 4);
        var completion = new MatrixCompletion(new MatrixCompletionOptions { MaxIterations = 3, Backend = Backend }).Fit(observed, truth);
        completion.History.Should().OnlyContain(h => double.IsNaN(h.RelativeWeightError) && h.UnobservedMse >= 0);
        completion.History.SkipLast(1).Should().OnlyContain(h => h.HeldOutMse >= 0);
        double.IsNaN(completion.History[^1].HeldOutMse).Should().BeTrue("the last record is the refit with the held-out entries");
        new MatrixCompletion(new MatrixCompletionOptions { MaxIterations = 2, Backend = Backend }).Fit(observed).History
            .Should().OnlyContain(h => double.IsNaN(h.UnobservedMse) && double.IsNaN(h.RelativeWeightError));
    }
}
