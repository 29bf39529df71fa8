using FeatureLearning.Ntk;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Ntk;

public sealed class KernelGradientFlowTests
{
    private static Matrix<double> M(int rows, int cols, int seed, double scale = 1) =>
        Matrix<double>.Build.DenseOfRowMajor(rows, cols, Random(rows, cols, seed, scale));

    /// <summary>The check of issue 15: loss (1/2n)‖f − y‖², n = 2, λ = 3 and 1; y lies on the λ = 1 eigenvector.</summary>
    [Fact]
    public void IssueExampleHasItsClosedFormValues()
    {
        var k = Matrix<double>.Build.DenseOfArray(new double[,] { { 2, 1 }, { 1, 2 } });
        var flow = new KernelGradientFlow(k, Vector<double>.Build.Dense([1, -1]), testTrainKernel: Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 } }));
        flow.TestPredictions(1, 1)[0, 0].Should().BeApproximately(1 - Math.Exp(-0.5), 1e-14);
        flow.TestPredictions(double.PositiveInfinity, 1)[0, 0].Should().BeApproximately(1, 1e-14);
        flow.TestPredictionsAtConvergence()[0, 0].Should().BeApproximately(1, 1e-14);
        flow.MaxStableLearningRate.Should().BeApproximately(4.0 / 3, 1e-14);
        var train = flow.TrainPredictions(1, 1);
        train[0, 0].Should().BeApproximately(1 - Math.Exp(-0.5), 1e-14);
        train[1, 0].Should().BeApproximately(-(1 - Math.Exp(-0.5)), 1e-14);

        // One discrete step: f₁ = f₀ − (η/n)K(f₀ − y) = Ky/2 = y/2; f_test = k_test·y/2 = 1/2.
        flow.TestPredictionsAfterSteps(1, 1)[0, 0].Should().BeApproximately(0.5, 1e-14);
    }

    [Fact]
    public void DiscreteStepsMatchADirectSimulationOfGradientDescent()
    {
        const int n = 6, m = 3, c = 2;
        var phi = M(n, 4, 1);
        var k = phi * phi.Transpose();
        var kTest = M(m, 4, 2) * phi.Transpose();
        var y = M(n, c, 3);
        var f0 = M(n, c, 4, 0.3);
        var fTest0 = M(m, c, 5, 0.3);
        var flow = new KernelGradientFlow(k, y, f0, kTest, fTest0);
        double eta = 0.8 * flow.MaxStableLearningRate;

        var f = f0.Clone();
        var fTest = fTest0.Clone();
        for (int step = 1; step <= 25; step++)
        {
            var grad = (eta / n) * (f - y);
            fTest -= kTest * grad;
            f -= k * grad;
            if (step is 1 or 7 or 25)
            {
                (flow.TrainPredictionsAfterSteps(step, eta) - f).FrobeniusNorm().Should().BeLessThan(1e-11 * (1 + f.FrobeniusNorm()));
                (flow.TestPredictionsAfterSteps(step, eta) - fTest).FrobeniusNorm().Should().BeLessThan(1e-11 * (1 + fTest.FrobeniusNorm()));
            }
        }
    }

    [Fact]
    public void DiscreteStepsConvergeToTheFlowAsTheLearningRateShrinks()
    {
        const int n = 5;
        var phi = M(n, 5, 11);
        var k = phi * phi.Transpose();
        var flow = new KernelGradientFlow(k, M(n, 1, 12), testTrainKernel: M(2, 5, 13) * phi.Transpose());
        double total = 0.5 * flow.MaxStableLearningRate * 40; // η·t fixed
        double previous = double.NaN;
        foreach (int steps in new[] { 400, 4000 })
        {
            double eta = total / steps;
            double gap = (flow.TestPredictionsAfterSteps(steps, eta) - flow.TestPredictions(steps, eta)).FrobeniusNorm();
            double scale = flow.TestPredictions(steps, eta).FrobeniusNorm();
            gap.Should().BeLessThan(0.02 * scale);
            if (!double.IsNaN(previous))
            {
                // First order in η: ten times fewer, smaller steps shrink the gap about tenfold.
                (previous / gap).Should().BeInRange(7, 13);
            }

            previous = gap;
        }
    }

    [Fact]
    public void SingularKernelLeavesTheNullSpaceAtItsInitialValue()
    {
        // K = ΦΦᵀ of rank 2 on 5 points: at t = ∞ the train outputs are f₀ + P(y − f₀), P the projection onto range(Φ),
        // and the test outputs are the least-squares fit Φ_test(ΦᵀΦ)⁻¹Φᵀ(y − f₀) added to f_test,0.
        const int n = 5;
        var phi = M(n, 2, 21);
        var phiTest = M(3, 2, 22);
        var y = M(n, 1, 23);
        var f0 = M(n, 1, 24, 0.5);
        var flow = new KernelGradientFlow(phi * phi.Transpose(), y, f0, phiTest * phi.Transpose());
        flow.Rank.Should().Be(2);
        var coefficients = (phi.Transpose() * phi).Solve(phi.Transpose() * (y - f0));
        var projected = f0 + (phi * coefficients);
        (flow.TrainPredictionsAtConvergence() - projected).FrobeniusNorm().Should().BeLessThan(1e-10);
        (flow.TestPredictionsAtConvergence() - (phiTest * coefficients)).FrobeniusNorm().Should().BeLessThan(1e-10);

        // The residual off the range never moves, at any time.
        var offRange = (y - projected).Column(0);
        var offRangeDirection = offRange / offRange.L2Norm();
        double moved = (flow.TrainPredictions(3.7, 0.9) - f0).Column(0).DotProduct(offRangeDirection);
        moved.Should().BeApproximately(0, 1e-10);
    }

    [Fact]
    public void StableBelowTwoNOverLambdaMaxAndDivergentAbove()
    {
        var k = Matrix<double>.Build.DenseOfArray(new double[,] { { 2, 1 }, { 1, 2 } });
        var y = Vector<double>.Build.Dense([1, 0.5]); // has a component on the λ = 3 eigenvector
        var flow = new KernelGradientFlow(k, y);
        (flow.TrainPredictionsAfterSteps(400, 1.3).Column(0) - y).L2Norm().Should().BeLessThan(1e-6);
        flow.TrainPredictionsAfterSteps(400, 1.4).Column(0).L2Norm().Should().BeGreaterThan(1e6);
    }

    [Fact]
    public void BadInputIsRejectedByName()
    {
        var k = Matrix<double>.Build.DenseOfArray(new double[,] { { 2, 1 }, { 1, 2 } });
        var y = Vector<double>.Build.Dense([1, -1]);
        ((Action)(() => _ = new KernelGradientFlow(Matrix<double>.Build.DenseOfArray(new double[,] { { 2, 1 }, { 0, 2 } }), y)))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("trainKernel");
        ((Action)(() => _ = new KernelGradientFlow(Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 }, { 2, 1 } }), y)))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("trainKernel");
        ((Action)(() => _ = new KernelGradientFlow(k, Vector<double>.Build.Dense(3))))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("targets");
        var flow = new KernelGradientFlow(k, y);
        ((Action)(() => flow.TrainPredictions(1, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("learningRate");
        ((Action)(() => flow.TrainPredictions(-1, 1))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("time");
        ((Action)(() => flow.TrainPredictionsAfterSteps(-1, 1))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("steps");
        ((Action)(() => flow.TestPredictions(1, 1))).Should().Throw<InvalidOperationException>();
    }
}
