using FeatureLearning.Diagnostics;
using FeatureLearning.Estimators;
using FeatureLearning.Networks;
using FeatureLearning.Plotting;
using FeatureLearning.Rfm;
using FeatureLearning.Tests.Networks;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary>Edge cases a review found: each asserts the defined behaviour that replaced a silent wrong value.</summary>
public sealed class EdgeCaseTests
{
    [Fact]
    public void TheDensityOfTheZeroOperatorIsFiniteAndIntegratesToOne()
    {
        var result = SpectralDensity.Estimate(SymmetricOperator.Dense(Matrix<double>.Build.Dense(6, 6)), new SpectralDensityOptions { Runs = 2, Steps = 3 });
        result.Density.Should().OnlyContain(v => double.IsFinite(v));
        result.Sigma.Should().Be(1);
        double integral = 0;
        for (int g = 1; g < result.Grid.Count; g++)
        {
            integral += (result.Grid[g] - result.Grid[g - 1]) * (result.Density[g] + result.Density[g - 1]) / 2;
        }

        integral.Should().BeApproximately(1, 1e-3);
        FluentActions.Invoking(() => SpectralDensity.Estimate(SymmetricOperator.Dense(Matrix<double>.Build.DenseIdentity(3)), new SpectralDensityOptions { Sigma = 1e-320 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Sigma*");
    }

    [Fact]
    public void HutchPlusPlusWithOneResidualProbeHasAnUnknownError()
    {
        var a = Matrix<double>.Build.DenseOfDiagonalArray([5, 4, 3, 2, 1, 0.5]);
        var estimate = TraceEstimator.HutchPlusPlus(SymmetricOperator.Dense(a), 3);
        estimate.StandardError.Should().Be(double.PositiveInfinity, "one probe gives no spread");
        estimate.Products.Should().Be(3);
    }

    [Fact]
    public void PearsonCorrelationSurvivesHugeAndTinyEntries()
    {
        var a = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 }, { 3, 5 } });
        double reference = NeuralFeatureAnsatz.PearsonCorrelation(a, a.Transpose());
        NeuralFeatureAnsatz.PearsonCorrelation(a * 1e200, a.Transpose() * 1e200).Should().BeApproximately(reference, 1e-12);
        NeuralFeatureAnsatz.PearsonCorrelation(a * 1e-200, a.Transpose() * 1e-200).Should().BeApproximately(reference, 1e-12);
    }

    [Fact]
    public void NetworksFromEqualButSeparateArchitecturesAreComparable()
    {
        var a = NetworkFixtures.Architecture(Activation.Tanh, Parameterization.Ntk, [4]);
        var b = NetworkFixtures.Architecture(Activation.Tanh, Parameterization.Ntk, [4]);
        using var first = FullyConnectedNetwork<double>.Create(a, seed: 1);
        using var second = FullyConnectedNetwork<double>.Create(b, seed: 2);
        var x = NetworkFixtures.Inputs(5, a.InputDimension, 3);
        TangentKernelDiagnostics.RelativeMovement(first, second, x).Should().BeGreaterThan(0);
        TangentKernelDiagnostics.RelativeMovement(first, first, x).Should().Be(0);
    }

    [Fact]
    public void TheHoldOutKeepsSingletonClassesAndRefusesAnEmptyValidationPart()
    {
        var rng = new Random(1);
        var x = Matrix<double>.Build.Dense(41, 3, (_, _) => rng.NextDouble());
        var labels = Enumerable.Range(0, 41).Select(i => i == 40 ? "rare" : i % 2 == 0 ? "a" : "b").ToArray();
        var options = new FeatureMachineOptions { Rounds = 2, ValidationFraction = 0.25 };
        var model = new FeatureMachineClassifier(options).Fit(x, labels);
        model.Rfm!.Predictor.TrainingCount.Should().Be(31, "10 of the 40 rows of a and b are held out; the one 'rare' row is trained on");

        var singletons = Enumerable.Range(0, 3).Select(i => $"c{i}").ToArray();
        FluentActions.Invoking(() => new FeatureMachineClassifier(options).Fit(x.SubMatrix(0, 3, 0, 3), singletons))
            .Should().Throw<ArgumentException>().WithMessage("*holds out no row*");
        FluentActions.Invoking(() => new FeatureMachineClassifier(options with { ValidationFraction = 1e-17 }).Fit(x, labels))
            .Should().Throw<ArgumentException>().WithMessage("*too small*");
        FluentActions.Invoking(() => new FeatureMachineRegressor(options).Fit(x.SubMatrix(0, 1, 0, 3), [1.0]))
            .Should().Throw<ArgumentException>().WithMessage("*cannot hold out*");
    }

    [Fact]
    public void ADiagonalMetricIsDrawnWholeAndFiguresDispose()
    {
        var rng = new Random(2);
        var x = Matrix<double>.Build.Dense(60, 4, (_, _) => rng.NextDouble());
        var y = Matrix<double>.Build.Dense(60, 1, (i, _) => x[i, 0]);
        var model = new RecursiveFeatureMachine(new RfmOptions { Rounds = 3, Diagonal = true }).Fit(x, y);
        using var figure = Plots.FeatureMatrix(model);
        figure.Plot.Axes.Title.Label.Text.Should().EndWith("(diagonal)", "a diagonal M is not blanked");
        figure.ToPng().Length.Should().BeGreaterThan(100);
    }
}
