using System.Text.Json;
using FeatureLearning.Kernels;
using FeatureLearning.Samples.Scale;

namespace FeatureLearning.Tests.Solvers;

/// <summary>
/// The fast version of samples/Scale (its core, ScaleRun.cs, is linked into the tests): the planted problem at n = 2,000,
/// d = 50 (500 test rows), learned by the exact RFM, the Nyström RFM and the RFM tree, with the JSON lines the sample
/// prints. Measured on the 2-core development machine (5 rounds, Laplace L = 10, λ = 1e-3): final test R² 0.978 exact,
/// 0.654 Nyström with m = 300 centres and 0.928 with m = 1,000 (error falling as m grows), 0.869 for the tree with leaves
/// of at most 1,000 rows (two exact leaves of 800 training rows).
/// </summary>
public sealed class ScaleSampleTests
{
    private static readonly string[] RoundFields = ["solver", "kernel", "n", "d", "round", "test_mse", "test_r2", "seconds", "cg_iterations", "cg_residual", "peak_memory_bytes", "kernel_seconds", "solve_seconds", "agop_seconds"];
    private static readonly string[] TreeFields = ["solver", "kernel", "n", "d", "test_mse", "test_r2", "seconds", "leaves", "peak_memory_bytes"];

    [Theory]
    [InlineData("exact", 0, 0.9)]
    [InlineData("nystrom", 300, 0.55)]
    [InlineData("nystrom", 1_000, 0.88)]
    public void TheRfmLearnsThePlantedProblemAndReportsEveryRound(string name, int centres, double r2)
    {
        var solver = Enum.Parse<ScaleSolver>(name, ignoreCase: true);
        var settings = new ScaleSettings { Solver = solver, Centres = Math.Max(1, centres), Iterations = 5 };
        var reports = Fit(settings);

        reports.Should().HaveCount(5);
        reports.Select(r => r.Round).Should().Equal(0, 1, 2, 3, 4);
        reports[^1].TestR2.Should().BeGreaterThan(r2, $"the {solver} RFM learns the 3 planted directions");
        reports[^1].TestR2.Should().BeGreaterThan(reports[0].TestR2 + 0.2, "the learned metric beats the plain kernel machine of round 0");
        foreach (var report in reports)
        {
            report.PeakMemoryBytes.Should().BePositive();
            report.Seconds.Should().BePositive();
            report.TestR2.Should().BeApproximately(1 - (report.TestMse / Variance()), 1e-12);
            if (solver == ScaleSolver.Nystrom)
            {
                report.CgIterations.Should().BeInRange(1, 100);
            }
            else
            {
                report.CgIterations.Should().Be(0);
            }

            FieldsOf(report.ToJson(2_000, 50, settings.KernelLabel)).Should().Equal(RoundFields);
            JsonDocument.Parse(report.ToJson(2_000, 50, settings.KernelLabel)).RootElement.GetProperty("kernel").GetString().Should().Be("laplace L=10");
            report.Parts.Solve.Should().BePositive();
            (report.Parts.Kernel + report.Parts.Solve + report.Parts.Agop).Should().BeLessThanOrEqualTo(report.Seconds, "the parts are inside the round's wall time");
        }
    }

    [Fact]
    public void TheTreeLearnsThePlantedProblemInOneLine()
    {
        var reports = Fit(new ScaleSettings { Solver = ScaleSolver.Tree, LeafSize = 1_000, Iterations = 5 });

        reports.Should().ContainSingle();
        var tree = reports[0];
        tree.Leaves.Should().Be(2, "median splits halve 2,000 rows into two leaves of 1,000");
        tree.TestR2.Should().BeGreaterThan(0.8);
        FieldsOf(tree.ToJson(2_000, 50, "laplace L=10")).Should().Equal(TreeFields);
    }

    [Fact]
    public void TheKernelOptionChoosesTheFamilyAndRefusesOthers()
    {
        new ScaleSettings().KernelFunction().Should().Be(new LaplaceKernel(10));
        new ScaleSettings { Kernel = "gaussian", Bandwidth = 3 }.KernelFunction().Should().Be(new GaussianKernel(3));
        var general = new ScaleSettings { Kernel = "generalized-laplace", Bandwidth = 5, Exponent = 1.5 };
        general.KernelFunction().Should().Be(new GeneralizedLaplaceKernel(5, 1.5));
        general.KernelLabel.Should().Be("generalized-laplace L=5 gamma=1.5");
        general.RfmOptions(ScaleSolver.Nystrom, null, null, null).Kernel.Should().Be(new GeneralizedLaplaceKernel(5, 1.5));
        FluentActions.Invoking(() => new ScaleSettings { Kernel = "cosine" }.Validate()).Should().Throw<ArgumentException>().WithMessage("--kernel must be laplace, gaussian or generalized-laplace, not 'cosine'.");
        FluentActions.Invoking(() => (general with { Exponent = 2.5 }).Validate()).Should().Throw<ArgumentException>().WithMessage("--exponent*");
    }

    [Fact]
    public void ThePlantedDataIsSeededAndTheStreamsDiffer()
    {
        var (x, y) = ScaleRun.Planted<double>(5_000, 7, seed: 3, stream: 0);
        var (x2, y2) = ScaleRun.Planted<double>(5_000, 7, seed: 3, stream: 0);
        var (xTest, _) = ScaleRun.Planted<double>(5_000, 7, seed: 3, stream: 1);

        x.Should().BeEquivalentTo(x2);
        y.Should().BeEquivalentTo(y2);
        x[4_500, 3].Should().NotBe(xTest[4_500, 3]);
        x.Column(2).Average().Should().BeApproximately(0, 0.05);
        (x.Column(2) * x.Column(2) / x.RowCount).Should().BeApproximately(1, 0.05);
        FluentActions.Invoking(() => ScaleRun.Planted<double>(10, 2, 0, 0)).Should().Throw<ArgumentException>().WithMessage("--d must be at least 3*");
        FluentActions.Invoking(() => new ScaleSettings { Centres = 0 }.Validate()).Should().Throw<ArgumentException>().WithMessage("--centres*");
    }

    private static List<ScaleReport> Fit(ScaleSettings settings)
    {
        var (x, y) = ScaleRun.Planted<double>(2_000, 50, settings.Seed, stream: 0);
        var (xTest, yTest) = ScaleRun.Planted<double>(500, 50, settings.Seed, stream: 1);
        var reports = new List<ScaleReport>();
        ScaleRun.Fit(settings, x, y, xTest, yTest, null, reports.Add);
        return reports;
    }

    private static double Variance() => ScaleRun.Variance(ScaleRun.Planted<double>(500, 50, 0, stream: 1).Y);

    private static string[] FieldsOf(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
    }
}
