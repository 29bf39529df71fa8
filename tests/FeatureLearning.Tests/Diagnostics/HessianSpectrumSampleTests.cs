using FeatureLearning.Samples.HessianSpectrum;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary>
/// The core of samples/HessianSpectrum (linked into the tests) on 100 digits with a width-32 tanh layer: at η = 20 the
/// sharpness starts above 2/η and, after a few tens of steps, stays at the edge of stability 2/η (Cohen et al. 2021); at
/// η = 2 it stays far below 2/η. The SLQ density's largest node agrees with the monitor's Lanczos sharpness.
/// </summary>
public sealed class HessianSpectrumSampleTests
{
    [Fact]
    public void AtALargeStepTheSharpnessSettlesAtTwoOverEta()
    {
        var outcome = HessianSpectrumRun.Run(samples: 100, width: 32, depth: 1, eta: 20, steps: 200, interval: 20, kernelSamples: 20, seed: 0);
        using var trained = outcome.Run.Training.Network;
        var records = outcome.Run.Records;

        records.Select(r => r.Step).Should().Equal(Enumerable.Range(0, 11).Select(i => i * 20));
        records[0].TwoOverEta.Should().Be(0.1);
        records[0].Sharpness!.Value.Should().BeGreaterThan(0.1 * 1.2, "the default initialisation is sharper than 2/η");
        records.Where(r => r.Step >= 40).Should().OnlyContain(r => r.Sharpness > 0.9 * r.TwoOverEta && r.Sharpness < 1.2 * r.TwoOverEta);
        records[^1].Loss.Should().BeLessThan(records[0].Loss / 10);

        // Two methods for the same number: the largest SLQ node (60 Lanczos steps) and the monitor's Lanczos sharpness.
        outcome.FinalDensity!.Nodes.Max().Should().BeApproximately(records[^1].Sharpness!.Value, 1e-6 * records[^1].Sharpness!.Value);
        outcome.InitialDensity.Nodes.Max().Should().BeApproximately(records[0].Sharpness!.Value, 1e-6 * records[0].Sharpness!.Value);
    }

    [Fact]
    public void AtASmallStepTheSharpnessStaysFarBelowTwoOverEta()
    {
        var outcome = HessianSpectrumRun.Run(samples: 100, width: 32, depth: 1, eta: 2, steps: 40, interval: 20, kernelSamples: 20, seed: 0);
        using var trained = outcome.Run.Training.Network;
        outcome.Run.Records.Should().OnlyContain(r => r.Sharpness < 0.5 * r.TwoOverEta);
        outcome.Run.Catapult!.IsCatapult.Should().BeFalse();
    }
}
