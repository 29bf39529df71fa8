using FeatureLearning.Samples.Catapult;

namespace FeatureLearning.Tests.Networks;

/// <summary>
/// The core of samples/Catapult (linked into the tests) against the theory of the quadratic model (Zhu et al. 2023) for one
/// training point: GD at ηλ₀ &lt; 2 decreases the loss monotonically; for 2 &lt; ηλ₀ &lt; 4 the loss first grows, the top
/// NTK eigenvalue then falls below 2/η and the loss converges (a catapult); above 4 it diverges. The linearised model's
/// eigenvalue is constant, so it diverges as soon as ηλ₀ &gt; 2.
/// </summary>
public sealed class CatapultPhaseTests
{
    private const int Width = 256, D = 10, Steps = 150;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void TheQuadraticModelShowsTheThreePhases(int seed)
    {
        var monotone = CatapultRun.Run(Width, D, 1.9, Steps, seed, CatapultModel.Quadratic);
        monotone.Outcome.Should().Be("monotone");
        monotone.Steps.Zip(monotone.Steps.Skip(1)).Should().OnlyContain(p => p.Second.Loss <= (p.First.Loss * (1 + 1e-9)) + 1e-28);
        monotone.FinalLossRatio.Should().BeLessThan(1e-12);

        var catapult = CatapultRun.Run(Width, D, 3.0, Steps, seed, CatapultModel.Quadratic);
        catapult.Outcome.Should().Be("catapult");
        catapult.MaxLossRatio.Should().BeGreaterThan(1);
        (catapult.LearningRate * catapult.Steps[^1].TopEigenvalue).Should().BeLessThan(2, "the eigenvalue ends below 2/η");
        catapult.FinalLossRatio.Should().BeLessThan(1e-12);

        CatapultRun.Run(Width, D, 4.3, Steps, seed, CatapultModel.Quadratic).Outcome.Should().Be("diverged");
    }

    [Fact]
    public void TheLinearModelNeverCatapults()
    {
        var linear = CatapultRun.Run(Width, D, 2.5, Steps, 0, CatapultModel.Linear);
        linear.Outcome.Should().Be("diverged");
        linear.FinalLambdaRatio.Should().Be(1, "the NTK of the linearised model is constant");
        CatapultRun.Run(Width, D, 1.9, Steps, 0, CatapultModel.Linear).Outcome.Should().Be("monotone");
    }

    [Fact]
    public void TheInitialEigenvalueIsTheSquaredGradientNormNearItsInfiniteWidthValue()
    {
        // Θ(x, x) of one hidden ReLU layer (σ_w = 1, σ_b = 0, ‖x‖² = d) tends to 1 (issue 15's hand value) as m grows.
        var run = CatapultRun.Run(4096, D, 1.0, 1, 3, CatapultModel.Network);
        run.InitialEigenvalue.Should().BeApproximately(1.0, 0.1);
    }
}
