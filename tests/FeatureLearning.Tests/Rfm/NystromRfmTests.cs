using FeatureLearning.Compute;
using FeatureLearning.Rfm;
using FeatureLearning.Kernels;
using FeatureLearning.Solvers;
using FeatureLearning.Tests.Compute;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace FeatureLearning.Tests.Rfm;

public sealed class NystromRfmTests(ITestOutputHelper output)
{
    private static readonly ManagedBackend Backend = new();

    /// <summary>Two orthonormal directions of R^d drawn with a seed (Gram–Schmidt on Gaussian vectors).</summary>
    private static Matrix<double> Directions(int d, int seed)
    {
        var g = Matrix<double>.Build.Random(d, 2, new Normal(0, 1, new System.Random(seed)));
        return g.QR().Q.SubMatrix(0, d, 0, 2);
    }

    /// <summary>x ~ N(0, I_d); y = (u₁ᵀx)(u₂ᵀx) + u₁ᵀx depends on the planted directions u₁, u₂ only.</summary>
    private static (Matrix<double> X, Matrix<double> Y) Planted(Matrix<double> u, int n, int seed)
    {
        var x = Matrix<double>.Build.Random(n, u.RowCount, new Normal(0, 1, new System.Random(seed)));
        var p = x * u;
        return (x, Matrix<double>.Build.Dense(n, 1, (i, _) => (p[i, 0] * p[i, 1]) + p[i, 0]));
    }

    private static double Mse(Matrix<double> a, Matrix<double> b) => (a - b).Enumerate().Average(v => v * v);

    /// <summary>‖V₂ᵀU‖²_F / 2 for the top-2 eigenvectors V₂ of M: 1 when they span the planted directions.</summary>
    private static double Alignment(Matrix<double> m, Matrix<double> u)
    {
        var evd = m.Evd();
        int d = m.RowCount;
        var top = evd.EigenVectors.SubMatrix(0, d, d - 2, 2);
        return (top.TransposeThisAndMultiply(u)).Enumerate().Sum(v => v * v) / 2;
    }

    [Fact]
    public void LearnsThePlantedDirectionsAndComesCloseToTheExactRfm()
    {
        var u = Directions(12, 1);
        var (x, y) = Planted(u, 1000, 2);
        var (xt, yt) = Planted(u, 400, 3);
        var options = new RfmOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 5, Backend = Backend };
        var exact = new RecursiveFeatureMachine(options).Fit(x, y);
        int callbacks = 0;
        var nystrom = new RecursiveFeatureMachine(options with
        {
            Solver = KernelSolver.Nystrom(300, seed: 5),
            AgopSampleSize = 500,
            OnSolverIteration = _ => callbacks++,
        }).Fit(x, y);

        double exactMse = Mse(exact.Predict(xt), yt), nystromMse = Mse(nystrom.Predict(xt), yt);
        double exactAlign = Alignment(exact.FeatureMatrix, u), nystromAlign = Alignment(nystrom.FeatureMatrix, u);
        double firstRound = Mse(new RecursiveFeatureMachine(options with { Rounds = 1, Solver = KernelSolver.Nystrom(300, seed: 5) }).Fit(x, y).Predict(xt), yt);
        output.WriteLine($"test MSE: exact RFM {exactMse:G3}, Nyström RFM (m = 300) {nystromMse:G3}, Nyström kernel ridge {firstRound:G3}; alignment exact {exactAlign:F3}, Nyström {nystromAlign:F3}");
        output.WriteLine(string.Join(Environment.NewLine, nystrom.History.Select(h => $"{h} CG {h.SolverIterations}, residual {h.SolverResidual:G2}")));

        nystromAlign.Should().BeGreaterThan(0.9, "the top eigenvectors of M should span the planted directions");
        double variance = yt.Column(0).Enumerate().Select(v => v - yt.Column(0).Average()).Average(v => v * v);
        output.WriteLine($"test R²: exact {1 - (exactMse / variance):F4}, Nyström {1 - (nystromMse / variance):F4}");
        nystromMse.Should().BeLessThan(firstRound / 5, "the learned metric should beat the round-0 kernel machine");
        (nystromMse / variance).Should().BeLessThan((exactMse / variance) + 0.01, "the Nyström RFM's test R² should be within 0.01 of the exact RFM's");
        nystrom.Predictor.TrainingCount.Should().Be(300);
        nystrom.History.Should().OnlyContain(h => h.SolverIterations > 0 && h.SolverResidual <= 1e-7);
        callbacks.Should().Be(nystrom.History.Sum(h => h.SolverIterations));
        exact.History.Should().OnlyContain(h => h.SolverIterations == 0);
    }

    [Fact]
    public void TrainingErrorsAreThoseOfThePredictorAndSaveLoadRoundTrips()
    {
        var u = Directions(6, 4);
        var (x, y) = Planted(u, 400, 5);
        var (xv, yv) = Planted(u, 100, 6);
        var model = new RecursiveFeatureMachine(new RfmOptions
        {
            Kernel = new LaplaceKernel(5),
            Rounds = 3,
            Backend = Backend,
            Solver = KernelSolver.Nystrom(60, seed: 2) with { MemoryBudgetBytes = 0, BlockRows = 64 },
        }).Fit(x, y, (xv, yv));

        // The recorded errors are the fitted predictor's own on the full training and validation sets.
        var selected = model.History[model.SelectedIteration];
        selected.TrainMse.Should().BeApproximately(Mse(model.Predict(x), y), 1e-10);
        selected.ValidationMse.Should().BeApproximately(Mse(model.Predict(xv), yv), 1e-10);
        selected.ValidationMse.Should().Be(model.History.Min(h => h.ValidationMse));

        using var file = new MemoryStream();
        model.Save(file);
        file.Position = 0;
        var loaded = RfmModel<double>.Load(file, Backend);
        loaded.Predict(xv).Should().BeEquivalentTo(model.Predict(xv));
        loaded.FeatureMatrix.Should().BeEquivalentTo(model.FeatureMatrix);
    }

    [Fact]
    public void ARoundHoldsNoMatrixOfOrderN()
    {
        // Streamed K_nm and a blocked AGOP: the factors and accumulators are m × m, the blocks b × m; only the data and
        // n-vectors (X, Y, the training predictions and CG's K_nm·p, which keeps them up to date: n × (d + 3c)) grow with n.
        int d = 4, m = 30, b = 16;
        var u = Directions(d, 7);
        long Peak(int n)
        {
            var (x, y) = Planted(u, n, 8);
            var tracking = new PeakTrackingBackend(Backend);
            new RecursiveFeatureMachine(new RfmOptions
            {
                Rounds = 2,
                Backend = tracking,
                AgopForm = AgopForm.Gram,
                Solver = KernelSolver.Nystrom(m) with { MemoryBudgetBytes = 0, BlockRows = b },
            }).Fit(x, y);
            return tracking.PeakElements;
        }

        long small = Peak(300), large = Peak(1200);
        long bound = (4L * m * m) + (3L * b * m) + (16L * m) + (2L * d * d);
        output.WriteLine($"peak elements beyond the data: n = 300: {small - (300 * (d + 3))}, n = 1200: {large - (1200 * (d + 3))}; bound {bound}");
        (small - (300 * (d + 3))).Should().BeLessThanOrEqualTo(bound);
        (large - (1200 * (d + 3))).Should().BeLessThanOrEqualTo(bound);
    }

    [Fact]
    public void BadSolverOptionsAreRejected()
    {
        ((Action)(() => new RecursiveFeatureMachine(new RfmOptions { Solver = null! }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Solver");
        ((Action)(() => new RecursiveFeatureMachine(new RfmOptions { Solver = KernelSolver.Nystrom(5) with { MaxIterations = -1 } })))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("MaxIterations");
    }
}
