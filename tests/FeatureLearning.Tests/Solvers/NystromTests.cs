using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Solvers;
using FeatureLearning.Tests.Compute;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Solvers;

public sealed class NystromTests(ITestOutputHelper output)
{
    private static readonly ManagedBackend Backend = new();

    private static Matrix<double> Gaussian(int rows, int cols, int seed) => Matrix<double>.Build.Random(rows, cols, new Normal(0, 1, new System.Random(seed)));

    /// <summary>y = sin(2x₀) + x₁x₂, smooth and noise-free.</summary>
    private static (Matrix<double> X, Matrix<double> Y) Planted(int n, int d, int seed)
    {
        var x = Gaussian(n, d, seed);
        return (x, Matrix<double>.Build.Dense(n, 1, (i, _) => Math.Sin(2 * x[i, 0]) + (x[i, 1] * x[i, 2])));
    }

    private static Matrix<double> KernelMatrix(IKernelFunction kernel, Matrix<double> a, Matrix<double> b) =>
        Matrix<double>.Build.Dense(a.RowCount, b.RowCount, (i, j) => kernel.Evaluate(a.Row(i).ToArray(), b.Row(j).ToArray(), Metric.Identity));

    private static double Mse(Matrix<double> a, Matrix<double> b) => (a - b).Enumerate().Average(v => v * v);

    private static KernelRidgeOptions Options(IKernelFunction kernel, double ridge, KernelSolver solver) => new() { Kernel = kernel, Ridge = ridge, Solver = solver, Backend = Backend };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WithEveryPointAsACentreItIsTheExactSolve(bool streamed)
    {
        var kernel = new LaplaceKernel(2.0);
        var x = Gaussian(150, 4, 1);
        var y = Gaussian(150, 2, 2);
        var solver = KernelSolver.Nystrom(150) with { Tolerance = 1e-13, MemoryBudgetBytes = streamed ? 0 : 1L << 30, BlockRows = 37 };
        var model = new KernelRidge(Options(kernel, 1e-3, solver)).Fit(x, y);

        // Independent reference: (K + λI)⁻¹Y by a dense MathNet solve of the per-pair kernel matrix.
        var k = KernelMatrix(kernel, x, x);
        var alpha = (k + (1e-3 * Matrix<double>.Build.DenseIdentity(150))).Solve(y);
        model.TrainingInputs.Should().BeEquivalentTo(x, "all n points are the centres, in order");
        RelativeError(model.Coefficients.ToRowMajorArray(), alpha.ToRowMajorArray()).Should().BeLessThan(1e-8);
        var xt = Gaussian(20, 4, 3);
        RelativeError(model.Predict(xt).ToRowMajorArray(), (KernelMatrix(kernel, xt, x) * alpha).ToRowMajorArray()).Should().BeLessThan(1e-8);
        model.Nystrom!.KernelMatrixStored.Should().Be(!streamed);
        model.Nystrom.Converged.Should().BeTrue();
        model.Nystrom.Iterations.Should().BeLessThanOrEqualTo(5, "with m = n the preconditioner is the inverse of the system up to rounding");
        output.WriteLine($"streamed={streamed}: {model.Nystrom.Iterations} iterations, residuals {string.Join(", ", model.Nystrom.ResidualHistory.Select(r => r.ToString("G2")))}");
    }

    [Fact]
    public void TestErrorFallsAsTheCentresGrowTowardsTheExactSolve()
    {
        var kernel = new LaplaceKernel(2.0);
        var (x, y) = Planted(1200, 4, 4);
        var (xt, yt) = Planted(400, 4, 5);
        double exact = Mse(new KernelRidge(Options(kernel, 1e-4, KernelSolver.Exact)).Fit(x, y).Predict(xt), yt);
        var errors = new List<double>();
        foreach (int m in new[] { 20, 80, 320 })
        {
            var model = new KernelRidge(Options(kernel, 1e-4, KernelSolver.Nystrom(m, seed: 7))).Fit(x, y);
            output.WriteLine($"m={m} jitter {model.Nystrom!.Jitter}, residuals {string.Join(", ", model.Nystrom.ResidualHistory.Select(r => r.ToString("G2")))}");
            model.Nystrom!.Converged.Should().BeTrue();
            model.TrainingCount.Should().Be(m);
            errors.Add(Mse(model.Predict(xt), yt));
        }

        output.WriteLine($"test MSE m = 20, 80, 320: {string.Join(", ", errors.Select(e => e.ToString("G3")))}; exact {exact:G3}");
        errors.Should().BeInDescendingOrder();
        errors[0].Should().BeGreaterThan(3 * errors[2]);
        errors[2].Should().BeLessThan(3 * exact, "320 centres of 1,200 should come near the exact solve");
    }

    [Fact]
    public void PreconditionedCgConvergesWherePlainCgNeedsFarMoreIterations()
    {
        // The library's ridge (the exact solver's K + λI); Falkon's λ_F = λ/n ≈ 4e-10 here.
        const double ridge = 1e-6;
        var kernel = new LaplaceKernel(10.0);
        var (x, y) = Planted(2400, 3, 6);
        var model = new KernelRidge(Options(kernel, ridge, KernelSolver.Nystrom(800, seed: 1) with { MaxIterations = 50, Tolerance = 1e-6 })).Fit(x, y);
        var report = model.Nystrom!;
        output.WriteLine($"jitter {report.Jitter}, residuals {string.Join(", ", report.ResidualHistory.Select(r => r.ToString("G2")))}");
        report.Converged.Should().BeTrue();
        report.Iterations.Should().BeLessThanOrEqualTo(50);

        // Plain CG on the same system H β = b, H = K_nmᵀK_nm + λK_mm, b = K_nmᵀy, formed on the host; ‖r‖/‖b‖ ≤ 1e-6.
        var centres = model.TrainingInputs;
        var knm = KernelMatrix(kernel, x, centres);
        var h = (knm.TransposeThisAndMultiply(knm)) + (ridge * KernelMatrix(kernel, centres, centres));
        var b = knm.TransposeThisAndMultiply(y).Column(0);
        int plain = PlainCgIterations(h, b, 1e-6, 20_000);
        output.WriteLine($"λ = {ridge}: preconditioned CG {report.Iterations} iterations, plain CG {plain} (cap 20,000)");
        plain.Should().BeGreaterThan(1000).And.BeGreaterThan(30 * report.Iterations);

        // The PCG solution solves the system: its residual is small next to b (and the preconditioned one was 1e-6).
        var beta = model.Coefficients.Column(0);
        ((h * beta) - b).L2Norm().Should().BeLessThan(1e-3 * b.L2Norm());
    }

    private static int PlainCgIterations(Matrix<double> h, MathNet.Numerics.LinearAlgebra.Vector<double> b, double tolerance, int cap)
    {
        var beta = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(b.Count);
        var r = b.Clone();
        var p = r.Clone();
        double rr = r.DotProduct(r), bb = rr;
        for (int i = 1; i <= cap; i++)
        {
            var hp = h * p;
            double a = rr / p.DotProduct(hp);
            beta += a * p;
            r -= a * hp;
            double next = r.DotProduct(r);
            if (Math.Sqrt(next / bb) <= tolerance)
            {
                return i;
            }

            p = r + ((next / rr) * p);
            rr = next;
        }

        return cap;
    }

    [Fact]
    public void ProgressReportsEveryIterationAndCancellationStopsTheLoop()
    {
        var (x, y) = Planted(400, 3, 8);
        var options = Options(new LaplaceKernel(1.0), 1e-6, KernelSolver.Nystrom(60) with { Tolerance = 1e-10, MaxIterations = 40 });
        var reports = new List<SolverProgress>();
        var model = new KernelRidge(options).Fit(x, y, new SynchronousProgress(reports.Add));
        reports.Select(r => r.Iteration).Should().Equal(Enumerable.Range(1, model.Nystrom!.Iterations));
        reports.Select(r => r.RelativeResidual).Should().Equal(model.Nystrom.ResidualHistory.Skip(1));
        reports.Should().OnlyContain(r => r.MaxIterations == 40 && r.Round == 0);

        using var cts = new CancellationTokenSource();
        int seen = 0;
        var cancelling = new SynchronousProgress(r =>
        {
            seen = r.Iteration;
            if (r.Iteration == 2)
            {
                cts.Cancel();
            }
        });
        ((Action)(() => new KernelRidge(options).Fit(x, y, cancelling, cts.Token))).Should().Throw<OperationCanceledException>();
        seen.Should().Be(2, "the loop checks the token before every iteration");
    }

    [Fact]
    public void SeveralOutputsEqualSeparateFitsAndSinglePrecisionAgrees()
    {
        var x = Gaussian(300, 3, 9);
        var y = Gaussian(300, 3, 10);
        var estimator = new KernelRidge(Options(new LaplaceKernel(2.0), 1e-2, KernelSolver.Nystrom(80, seed: 3) with { Tolerance = 1e-12 }));
        var joint = estimator.Fit(x, y).Coefficients;
        for (int k = 0; k < 3; k++)
        {
            var single = estimator.Fit(x, y.SubMatrix(0, 300, k, 1)).Coefficients.Column(0);
            RelativeError(joint.Column(k).ToArray(), single.ToArray()).Should().BeLessThan(1e-8);
        }

        var inFloat = estimator.Fit(x.Map(v => (float)v), y.Map(v => (float)v));
        inFloat.Nystrom!.Converged.Should().BeTrue();
        RelativeError(inFloat.Predict(x.Map(v => (float)v)).ToRowMajorArray().Select(v => (double)v).ToArray(), estimator.Fit(x, y).Predict(x).ToRowMajorArray())
            .Should().BeLessThan(1e-3);
    }

    [Fact]
    public void StreamingBoundsMemoryByTheBlockAndSaveLoadRoundTrips()
    {
        int n = 500, d = 3, m = 40, block = 25;
        var (x, y) = Planted(n, d, 11);
        var stored = new PeakTrackingBackend(Backend);
        var streamed = new PeakTrackingBackend(Backend);
        var solver = KernelSolver.Nystrom(m) with { BlockRows = block };
        var a = new KernelRidge(Options(new LaplaceKernel(2.0), 1e-3, solver) with { Backend = stored }).Fit(x, y);
        var b = new KernelRidge(Options(new LaplaceKernel(2.0), 1e-3, solver with { MemoryBudgetBytes = 8L * n * m - 1 }) with { Backend = streamed }).Fit(x, y);
        a.Nystrom!.KernelMatrixStored.Should().BeTrue();
        b.Nystrom!.KernelMatrixStored.Should().BeFalse();
        RelativeError(b.Coefficients.ToRowMajorArray(), a.Coefficients.ToRowMajorArray()).Should().BeLessThan(1e-6);

        // Streamed: the data (X, Y), the metric, two m × m factors, one block × m block and O(m + n) vectors, never n × m.
        long bound = ((long)n * (d + 2)) + (2L * m * m) + ((long)block * m) + (8L * m);
        output.WriteLine($"peak elements: stored {stored.PeakElements}, streamed {streamed.PeakElements} (bound {bound}, n·m = {n * m})");
        stored.PeakElements.Should().BeGreaterThanOrEqualTo((long)n * m);
        streamed.PeakElements.Should().BeLessThanOrEqualTo(bound);

        using var file = new MemoryStream();
        a.Save(file);
        file.Position = 0;
        var loaded = KernelRidgeModel<double>.Load(file, Backend);
        loaded.Predict(x).Should().BeEquivalentTo(a.Predict(x));
        loaded.TrainingCount.Should().Be(m);
        loaded.Nystrom.Should().BeNull();
    }

    [Fact]
    public void LeverageScoresFavourIsolatedPointsAndAreSeeded()
    {
        // 950 points in a tight cluster and 50 spread far away: uniform sampling expects 2.5 of the far points among 50 centres.
        var rng = new System.Random(12);
        var x = Matrix<double>.Build.Dense(1000, 2, (i, _) => i < 950 ? 0.05 * Normal.Sample(rng, 0, 1) : Normal.Sample(rng, 0, 3) + 6);
        var y = Matrix<double>.Build.Dense(1000, 1, (i, _) => Math.Sin(x[i, 0]));
        var solver = KernelSolver.Nystrom(50, seed: 4) with { Selection = CentreSelection.ApproximateLeverage };
        var first = new KernelRidge(Options(new GaussianKernel(1.0), 1e-3, solver)).Fit(x, y).Nystrom!;
        var second = new KernelRidge(Options(new GaussianKernel(1.0), 1e-3, solver)).Fit(x, y).Nystrom!;
        first.CentreIndices.Should().Equal(second.CentreIndices);
        first.CentreIndices.Should().OnlyHaveUniqueItems().And.HaveCount(50).And.BeInAscendingOrder();
        int far = first.CentreIndices.Count(i => i >= 950);
        output.WriteLine($"far points among 50 leverage-sampled centres: {far}");
        far.Should().BeGreaterThanOrEqualTo(15);
        first.Converged.Should().BeTrue();
    }

    [Theory]
    [InlineData("gaussian")]
    [InlineData("polynomial")]
    public void LeverageScoresMatchADenseReference(string kernelName)
    {
        // k_ii − k_iSᵀ(K_SS + λ(s/n)I)⁻¹k_iS over the pilot S, by MathNet on per-pair kernel values.
        IKernelFunction kernel = kernelName == "gaussian" ? new GaussianKernel(1.0) : new PolynomialKernel(2, 1.0);
        int n = 300, s = 40, seed = 5;
        double ridge = 1e-2;
        var x = Gaussian(n, 3, 13);
        using var xb = Backend.Upload<double>(x.ToRowMajorArray(), n, 3);
        var scores = NystromCentres.LeverageScores<double>(Backend, kernel, xb, null, ridge, s, seed, 64, CholeskyOptions.Default, default);

        var pilot = FeatureLearning.Rfm.SeededSample.Indices(n, s, seed + 1);
        var xs = Matrix<double>.Build.DenseOfRowArrays(pilot.Select(i => x.Row(i).ToArray()));
        var kss = KernelMatrix(kernel, xs, xs) + (ridge * s / n * Matrix<double>.Build.DenseIdentity(s));
        var ksn = KernelMatrix(kernel, xs, x);
        var solved = kss.Solve(ksn);
        var expected = Enumerable.Range(0, n)
            .Select(i => Math.Max(kernel.Evaluate(x.Row(i).ToArray(), x.Row(i).ToArray(), Metric.Identity) - ksn.Column(i).DotProduct(solved.Column(i)), 0))
            .ToArray();
        double scale = expected.Max();
        scores.Zip(expected).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 1e-8 * scale);
    }

    [Fact]
    public void BadOptionsNameTheArgument()
    {
        Param(() => KernelSolver.Nystrom(0).Validate()).Should().Be("Centres");
        Param(() => (KernelSolver.Nystrom(10) with { MaxIterations = 0 }).Validate()).Should().Be("MaxIterations");
        Param(() => (KernelSolver.Nystrom(10) with { Tolerance = 1.5 }).Validate()).Should().Be("Tolerance");
        Param(() => (KernelSolver.Nystrom(10) with { BlockRows = 0 }).Validate()).Should().Be("BlockRows");
        Param(() => (KernelSolver.Nystrom(10) with { MemoryBudgetBytes = -1 }).Validate()).Should().Be("MemoryBudgetBytes");
        Param(() => new KernelRidge(new KernelRidgeOptions { Solver = null! })).Should().Be("Solver");
        Param(() => new KernelRidge(new KernelRidgeOptions { Solver = KernelSolver.Nystrom(-3) })).Should().Be("Centres");
    }

    private static string? Param(Action action)
    {
        try
        {
            action();
        }
        catch (ArgumentException e)
        {
            return e.ParamName;
        }

        return "(nothing thrown)";
    }

    private sealed class SynchronousProgress(Action<SolverProgress> handler) : IProgress<SolverProgress>
    {
        public void Report(SolverProgress value) => handler(value);
    }
}
