using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Trees;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace FeatureLearning.Tests.Trees;

public sealed class RfmTreeTests(ITestOutputHelper output)
{
    private static readonly ManagedBackend Backend = new();

    private static readonly RfmTreeOptions Small = new()
    {
        MaxLeafSize = 150,
        SplitSampleSize = 200,
        SplitRfm = new RfmOptions { Rounds = 2, SelectBy = SelectionMetric.Last, Backend = Backend },
        LeafRfm = new RfmOptions { Rounds = 3, Backend = Backend },
        Seed = 7,
    };

    /// <summary>
    /// x ~ N(0, I_d); y = 2 tanh(2x₁) + (x₂x₃ + x₄x₅ + x₆x₇ where x₁ &gt; 0, x₈x₉ + x₁₀x₁₁ + x₁₂x₁₃ elsewhere): the
    /// six directions the target depends on are different in the two halves of the input space that e₁ separates.
    /// </summary>
    internal static (Matrix<double> X, Matrix<double> Y) TwoHalves(int n, int d, int seed)
    {
        var x = Matrix<double>.Build.Random(n, d, new Normal(0, 1, new System.Random(seed)));
        var y = Matrix<double>.Build.Dense(n, 1, (i, _) => (2 * Math.Tanh(2 * x[i, 0])) + (x[i, 0] > 0
            ? (x[i, 1] * x[i, 2]) + (x[i, 3] * x[i, 4]) + (x[i, 5] * x[i, 6])
            : (x[i, 7] * x[i, 8]) + (x[i, 9] * x[i, 10]) + (x[i, 11] * x[i, 12])));
        return (x, y);
    }

    private static double Mse(Matrix<double> a, Matrix<double> b) => (a - b).Enumerate().Average(v => v * v);

    [Fact]
    public void BeatsOneRfmWhenTheRelevantDirectionsDifferBetweenTwoHalves()
    {
        var (x, y) = TwoHalves(2000, 20, 1);
        var (xt, yt) = TwoHalves(1000, 20, 2);
        var rfm = new RfmOptions { Rounds = 5, Backend = Backend };
        var single = new RecursiveFeatureMachine(rfm).Fit(x, y);
        var options = new RfmTreeOptions
        {
            MaxLeafSize = 1000,
            SplitSampleSize = 1000,
            SplitRfm = rfm with { Rounds = 3, SelectBy = SelectionMetric.Last },
            LeafRfm = rfm,
            Seed = 3,
        };
        var tree = new RfmTree(options).Fit(x, y);

        // Work in kernel-solve units (rows³ per round): the tree does less than the single RFM.
        double singleWork = Math.Pow(2000, 3) * rfm.Rounds;
        double treeWork = (Math.Pow(options.SplitSampleSize, 3) * options.SplitRfm.Rounds * tree.Routing.SplitCount)
            + tree.Leaves.Sum(l => Math.Pow(l.Predictor.TrainingCount, 3) * rfm.Rounds);
        treeWork.Should().BeLessThan(singleWork);

        tree.Leaves.Should().HaveCount(2);
        Math.Abs(tree.Routing.SplitDirections[0, 0]).Should().BeGreaterThan(0.95, "the split follows e₁, the top AGOP direction");
        double singleMse = Mse(single.Predict(xt), yt), treeMse = Mse(tree.Predict(xt), yt);
        output.WriteLine($"test MSE: one RFM {singleMse:G4}, tree {treeMse:G4} (split direction |v1| = {Math.Abs(tree.Routing.SplitDirections[0, 0]):F3})");
        treeMse.Should().BeLessThan(0.6 * singleMse, $"tree test MSE {treeMse:G4} vs single RFM {singleMse:G4}");
    }

    [Fact]
    public void PlanPartitionsTheRowsAsTheRoutingRoutesThem()
    {
        var (x, y) = TwoHalves(600, 15, 3);
        var tree = new RfmTree(Small with { Trees = 2 });
        var plan = tree.Plan(x, y);
        var again = tree.Plan(x, y);

        plan.Routing.TreeCount.Should().Be(2);
        plan.LeafCount.Should().Be(plan.Routing.LeafCount).And.BeGreaterThan(4);
        var route = plan.Routing.Route(x);
        for (int t = 0; t < 2; t++)
        {
            var leaves = Enumerable.Range(0, plan.LeafCount).Where(l => plan.Routing.TreeOfLeaf(l) == t).ToArray();
            leaves.SelectMany(plan.LeafRows).Order().Should().Equal(Enumerable.Range(0, 600), "each tree's leaves partition the rows");
            foreach (int leaf in leaves)
            {
                plan.LeafRows(leaf).Count.Should().BeInRange(1, Small.MaxLeafSize);
                plan.LeafRows(leaf).Should().OnlyContain(i => route[i, t] == leaf);
                again.LeafRows(leaf).Should().Equal(plan.LeafRows(leaf), "the plan is seeded");
            }
        }

        again.Routing.SplitDirections.Should().Be(plan.Routing.SplitDirections);
        var directions = plan.Routing.SplitDirections;
        for (int k = 0; k < directions.RowCount; k++)
        {
            directions.Row(k).L2Norm().Should().BeApproximately(1, 1e-12);
        }

        // Different trees use different split samples.
        (plan.Routing.SplitDirections.Row(0) - plan.Routing.SplitDirections.Row(plan.Routing.SplitCount / 2)).L2Norm().Should().BeGreaterThan(0);
    }

    [Fact]
    public void ParallelLeavesGiveTheSameModelAsLeavesOneAfterAnotherAndReportEveryLeaf()
    {
        var (x, y) = TwoHalves(600, 15, 4);
        var (xt, _) = TwoHalves(200, 15, 5);
        var reports = new List<RfmTreeProgress>();
        var sequential = new RfmTree(Small).Fit(x, y, new SynchronousProgress(r => { lock (reports) { reports.Add(r); } }));
        var parallel = new RfmTree(Small with { MaxParallelLeaves = 3 }).Fit(x, y);

        parallel.Predict(xt).Should().Be(sequential.Predict(xt));
        int leaves = sequential.Leaves.Count;
        reports.Where(r => r.Stage == RfmTreeStage.Split).Should().HaveCount(sequential.Routing.SplitCount);
        var leafReports = reports.Where(r => r.Stage == RfmTreeStage.Leaf).ToArray();
        leafReports.Select(r => r.Leaf).Order().Should().Equal(Enumerable.Range(0, leaves));
        leafReports.Select(r => r.Completed).Should().Equal(Enumerable.Range(1, leaves));
        leafReports.Should().OnlyContain(r => r.Leaves == leaves && !double.IsNaN(r.ValidationMse));
        leafReports.Select(r => r.Rows).Sum().Should().Be(600);
    }

    [Fact]
    public void FitEqualsPlanThenFitLeafThenAssemble()
    {
        var (x, y) = TwoHalves(500, 15, 6);
        var (xt, _) = TwoHalves(100, 15, 7);
        var tree = new RfmTree(Small);
        var model = tree.Fit(x, y);
        var plan = tree.Plan(x, y);
        var leaves = Enumerable.Range(0, plan.LeafCount).Select(l =>
        {
            var rows = plan.LeafRows(l).ToArray();
            return tree.FitLeaf(l, Matrix<double>.Build.DenseOfRowVectors(rows.Select(x.Row)), Matrix<double>.Build.DenseOfRowVectors(rows.Select(y.Row)));
        }).ToArray();
        RfmTreeModel<double>.Assemble(plan.Routing, leaves).Predict(xt).Should().Be(model.Predict(xt));
    }

    [Fact]
    public void SeveralTreesPredictTheAverageOfTheirLeaves()
    {
        var (x, y) = TwoHalves(500, 15, 8);
        var (xt, _) = TwoHalves(50, 15, 9);
        var model = new RfmTree(Small with { Trees = 3 }).Fit(x, y);
        model.TreeCount.Should().Be(3);
        var route = model.Routing.Route(xt);
        var expected = Matrix<double>.Build.Dense(50, 1, (i, _) =>
            Enumerable.Range(0, 3).Sum(t => model.Leaves[route[i, t]].Predict(xt.SubMatrix(i, 1, 0, 15))[0, 0]) / 3);
        model.Predict(xt).Should().BeEquivalentTo(expected, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
    }

    [Fact]
    public void SaveAndLoadKeepThePredictions()
    {
        var (x, y) = TwoHalves(500, 15, 10);
        var (xt, _) = TwoHalves(100, 15, 11);
        var model = new RfmTree(Small with { Trees = 2 }).Fit(x, y);
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = RfmTreeModel<double>.Load(stream, Backend);
        loaded.Predict(xt).Should().Be(model.Predict(xt));
        loaded.Leaves.Select(l => l.SelectedIteration).Should().Equal(model.Leaves.Select(l => l.SelectedIteration));

        string path = Path.Combine(Path.GetTempPath(), $"routing-{Guid.NewGuid():N}.flm");
        try
        {
            model.Routing.Save(path);
            var routing = RfmTreeRouting.Load(path);
            routing.Route(xt).Should().BeEquivalentTo(model.Routing.Route(xt));
            routing.Thresholds.Should().Equal(model.Routing.Thresholds);
            FluentActions.Invoking(() => RfmTreeModel<double>.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*'RTR1'*");
        }
        finally
        {
            File.Delete(path);
        }

        var bytes = stream.ToArray();
        bytes[bytes.Length / 2] ^= 0x40;
        FluentActions.Invoking(() => RfmTreeModel<double>.Load(new MemoryStream(bytes))).Should().Throw<InvalidDataException>().WithMessage("*Checksum*");
        FluentActions.Invoking(() => RfmTreeModel<float>.Load(new MemoryStream(stream.ToArray()))).Should().Throw<InvalidDataException>().WithMessage("*double*");
    }

    [Fact]
    public void FitsInSinglePrecision()
    {
        var (x, y) = TwoHalves(400, 15, 12);
        var (xt, yt) = TwoHalves(100, 15, 13);
        var model = new RfmTree(Small).Fit(x.Map(v => (float)v), y.Map(v => (float)v));
        var prediction = model.Predict(xt.Map(v => (float)v)).Map(v => (double)v);
        Mse(prediction, yt).Should().BeLessThan(yt.Enumerate().Average(v => v * v), "better than predicting zero");
    }

    [Fact]
    public void BadArgumentsAreRejectedByName()
    {
        FluentActions.Invoking(() => new RfmTree(Small with { MaxLeafSize = 0 })).Should().Throw<ArgumentException>().WithParameterName("MaxLeafSize");
        FluentActions.Invoking(() => new RfmTree(Small with { ValidationFraction = 1 })).Should().Throw<ArgumentException>().WithParameterName("ValidationFraction");
        FluentActions.Invoking(() => new RfmTree(Small with { MaxParallelLeaves = 0 })).Should().Throw<ArgumentException>().WithParameterName("MaxParallelLeaves");
        FluentActions.Invoking(() => new RfmTree(Small with { LeafRfm = new RfmOptions { Rounds = 0 } })).Should().Throw<ArgumentException>().WithParameterName("LeafRfm");

        var (x, y) = TwoHalves(300, 15, 14);
        var tree = new RfmTree(Small);
        FluentActions.Invoking(() => tree.Fit(x, y.SubMatrix(0, 200, 0, 1))).Should().Throw<ArgumentException>();
        var plan = tree.Plan(x, y);
        FluentActions.Invoking(() => RfmTreeModel<double>.Assemble(plan.Routing, [])).Should().Throw<ArgumentException>().WithParameterName("leaves");
        var model = tree.Fit(x, y);
        FluentActions.Invoking(() => model.Predict(x.SubMatrix(0, 10, 0, 14))).Should().Throw<ArgumentException>().WithParameterName("x");
    }

    [Fact]
    public void CancellationStopsTheFit()
    {
        var (x, y) = TwoHalves(300, 15, 15);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        FluentActions.Invoking(() => new RfmTree(Small).Fit(x, y, cancellationToken: cts.Token)).Should().Throw<OperationCanceledException>();
        FluentActions.Invoking(() => new RfmTree(Small with { MaxParallelLeaves = 2 }).Fit(x, y, cancellationToken: cts.Token)).Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public void ClassifiesWithOneHotTargets()
    {
        static (Matrix<double> X, Matrix<double> Y, int[] Labels) Make(int n, int seed)
        {
            var (x, _) = TwoHalves(n, 15, seed);
            var labels = Enumerable.Range(0, n).Select(i => (x[i, 0] > 0 ? x[i, 1] : x[i, 2]) > 0 ? 1 : 0).ToArray();
            return (x, FeatureLearning.Data.OneHot.Encode(labels, 2), labels);
        }

        var (x, y, _) = Make(1200, 19);
        var (xt, _, labels) = Make(300, 20);
        var model = new RfmTree(Small with { MaxLeafSize = 600, SplitSampleSize = 600 }).Fit(x, y);
        model.OutputDimension.Should().Be(2);
        double accuracy = FeatureLearning.Data.OneHot.Accuracy(model.PredictClass(xt), labels);
        output.WriteLine($"test accuracy {accuracy:F3} with {model.Leaves.Count} leaves");
        accuracy.Should().BeGreaterThan(0.8);
        model.Leaves.Should().OnlyContain(l => !double.IsNaN(l.History[l.SelectedIteration].ValidationAccuracy), "two outputs: the rounds are chosen by validation accuracy");
    }

    [Fact]
    public void SmallDataIsOneLeaf()
    {
        var (x, y) = TwoHalves(100, 15, 16);
        var model = new RfmTree(Small).Fit(x, y);
        model.Routing.SplitCount.Should().Be(0);
        model.Leaves.Should().ContainSingle();
        var direct = new RfmTree(Small).FitLeaf(0, x, y);
        model.Predict(x).Should().Be(direct.Predict(x));
    }

    private sealed class SynchronousProgress(Action<RfmTreeProgress> handler) : IProgress<RfmTreeProgress>
    {
        public void Report(RfmTreeProgress value) => handler(value);
    }
}
