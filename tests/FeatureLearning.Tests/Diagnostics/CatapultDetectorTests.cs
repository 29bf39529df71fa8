using FeatureLearning.Diagnostics;
using FeatureLearning.Samples.Catapult;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary><see cref="CatapultDetector"/> on synthetic sequences with planted events and on the runs of samples/Catapult.</summary>
public sealed class CatapultDetectorTests
{
    private static CatapultObservation[] Sequence(int[] steps, double[] losses, double[] eigenvalues) =>
        steps.Select((s, i) => new CatapultObservation(s, losses[i], eigenvalues[i])).ToArray();

    [Fact]
    public void ASpikeFollowedByADropIsACatapultWithItsStepsAndSize()
    {
        var d = CatapultDetector.Detect(Sequence([0, 10, 20, 30, 40, 50], [1, 2, 5, 3, 0.5, 0.1], [10, 10, 12, 6, 5, 4]));
        d.IsCatapult.Should().BeTrue();
        d.Spiked.Should().BeTrue();
        d.Diverged.Should().BeFalse();
        d.InitialLoss.Should().Be(1);
        d.InitialEigenvalue.Should().Be(10);
        d.SpikeStep.Should().Be(10);
        d.PeakStep.Should().Be(20);
        d.PeakLossRatio.Should().Be(5);
        d.RecoveryStep.Should().Be(40);
        d.EigenvalueBefore.Should().Be(10);
        d.DropStep.Should().Be(30);
        d.EigenvalueAfter.Should().Be(5, "the smallest eigenvalue in the window, steps 10 to 40");
        d.EigenvalueRatio.Should().Be(0.5);
    }

    [Fact]
    public void AMonotoneRunIsNoCatapult()
    {
        var d = CatapultDetector.Detect(Sequence([0, 1, 2, 3], [1, 0.5, 0.25, 0.1], [10, 9, 8, 7]));
        d.IsCatapult.Should().BeFalse();
        d.Spiked.Should().BeFalse();
        d.SpikeStep.Should().BeNull();
        d.DropStep.Should().BeNull();
        d.PeakLossRatio.Should().BeNull();
    }

    [Fact]
    public void ASpikeWithoutADropIsNotACatapult()
    {
        var d = CatapultDetector.Detect(Sequence([0, 1, 2, 3], [1, 3, 2, 0.5], [10, 11, 12, 12]));
        d.Spiked.Should().BeTrue();
        d.IsCatapult.Should().BeFalse();
        d.SpikeStep.Should().Be(1);
        d.PeakStep.Should().Be(1);
        d.PeakLossRatio.Should().Be(3);
        d.RecoveryStep.Should().Be(3);
        d.DropStep.Should().BeNull();
        d.EigenvalueRatio.Should().Be(1.1, "the smallest eigenvalue of the window is 11 against 10 before");
    }

    [Fact]
    public void ADropAfterTheLossCameBackDoesNotCount()
    {
        var d = CatapultDetector.Detect(Sequence([0, 1, 2, 3], [1, 2, 0.5, 0.4], [10, 10, 10, 5]));
        d.Spiked.Should().BeTrue();
        d.RecoveryStep.Should().Be(2);
        d.IsCatapult.Should().BeFalse();
    }

    [Fact]
    public void NonFiniteObservationsEndTheSequenceAndAreReported()
    {
        var d = CatapultDetector.Detect(Sequence([0, 1, 2, 3], [1, 4, double.PositiveInfinity, 0.1], [10, 12, double.NaN, 1]));
        d.Diverged.Should().BeTrue();
        d.DivergedStep.Should().Be(2);
        d.Spiked.Should().BeTrue();
        d.IsCatapult.Should().BeFalse("the drop at step 3 comes after the divergence");
        d.RecoveryStep.Should().BeNull();
    }

    [Fact]
    public void BadSequencesAreRejectedNamingTheArgument()
    {
        FluentActions.Invoking(() => CatapultDetector.Detect([])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("observations");
        FluentActions.Invoking(() => CatapultDetector.Detect(Sequence([0, 2, 2], [1, 1, 1], [1, 1, 1]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("observations");
        FluentActions.Invoking(() => CatapultDetector.Detect(Sequence([0], [1], [1]), new CatapultDetectorOptions { DropTolerance = 1 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("DropTolerance");
    }

    [Theory]
    [InlineData(1.9, "monotone")]
    [InlineData(3.0, "catapult")]
    public void TheCatapultSamplesOutcomeIsTheDetectors(double etaLambda, string expected)
    {
        foreach (var model in new[] { CatapultModel.Quadratic, CatapultModel.Network })
        {
            var run = CatapultRun.Run(256, 10, etaLambda, 100, 0, model);
            run.Outcome.Should().Be(expected);
            run.Outcome.Should().Be(CatapultRun.OutcomeOf(CatapultDetector.Detect(run.Steps.Select(s => new CatapultObservation(s.Step, s.Loss, s.TopEigenvalue)).ToArray())));
            run.Detection.IsCatapult.Should().Be(expected == "catapult");
            if (expected == "catapult")
            {
                run.Detection.PeakLossRatio.Should().Be(run.MaxLossRatio);
                run.Detection.EigenvalueAfter.Should().BeLessThan(2 / run.LearningRate, "λ falls below 2/η during the catapult");
                run.Detection.RecoveryStep.Should().NotBeNull();
            }
        }
    }
}
