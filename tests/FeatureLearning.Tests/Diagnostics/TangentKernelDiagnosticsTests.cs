using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using static FeatureLearning.Tests.Networks.NetworkFixtures;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary>
/// <see cref="TangentKernelDiagnostics"/> against <see cref="EmpiricalNtk"/> and a full MathNet eigendecomposition on a tiny
/// network (n = 7, c = 2, P = 71 &gt; n·c, so Θ is nonsingular): the spectrum, κ, the PL constant λ_min/n (and the PL
/// inequality it promises), the Lanczos top-k path, the loss split and the kernel movement.
/// </summary>
public sealed class TangentKernelDiagnosticsTests
{
    private const int N = 7, D = 3, C = 2;

    private static FullyConnectedNetwork<double> Network(int seed = 3) =>
        FullyConnectedNetwork<double>.Create(Architecture(Activation.Tanh, Parameterization.Ntk, [6, 5], D, C), seed);

    private static double[] DenseEigenvalues(Matrix<double> theta) =>
        theta.Evd(Symmetricity.Symmetric).EigenValues.Select(z => z.Real).OrderByDescending(v => v).ToArray();

    [Fact]
    public void TheDenseSpectrumIsTheEigendecompositionOfTheEmpiricalNtk()
    {
        using var network = Network();
        var x = Inputs(N, D, 1);
        var expected = DenseEigenvalues(EmpiricalNtk.Compute(network, x));

        var spectrum = TangentKernelDiagnostics.Spectrum(network, x);

        spectrum.Method.Should().Be(TangentKernelMethod.Dense);
        spectrum.Eigenvalues.Should().HaveCount(N * C);
        for (int i = 0; i < expected.Length; i++)
        {
            spectrum.Eigenvalues[i].Should().BeApproximately(expected[i], 1e-10 * expected[0]);
        }

        expected[^1].Should().BePositive("P > n·c, so the tiny network's kernel is nonsingular");
        spectrum.Largest.Should().BeApproximately(expected[0], 1e-10 * expected[0]);
        spectrum.Smallest.Should().BeApproximately(expected[^1], 1e-10 * expected[0]);
        spectrum.ConditionNumber.Should().BeApproximately(expected[0] / expected[^1], 1e-8 * expected[0] / expected[^1]);
        spectrum.PlConstant.Should().BeApproximately(expected[^1] / N, 1e-10 * expected[0]);
        spectrum.NormalizedLargest.Should().BeApproximately(expected[0] / N, 1e-10 * expected[0]);
        spectrum.Loss.Should().BeNull();
    }

    [Fact]
    public void ThePlConstantBoundsTheGradientOfTheMeanSquaredError()
    {
        using var network = Network();
        var x = Inputs(N, D, 1);
        var y = Targets(N, C, 2, oneHot: false);
        var spectrum = TangentKernelDiagnostics.Spectrum(network, x, y);
        var gradient = network.LossGradient(x, y, NetworkLoss.MeanSquaredError);

        // ‖∇L‖² = rᵀΘr/n² lies between 2μL and 2(λ_max/n)L for L = ‖r‖²/2n.
        double squared = gradient.Gradient.DotProduct(gradient.Gradient);
        spectrum.Loss!.Value.Should().BeApproximately(gradient.Loss, 1e-12 * gradient.Loss);
        squared.Should().BeGreaterThanOrEqualTo(2 * spectrum.PlConstant * gradient.Loss * (1 - 1e-10));
        squared.Should().BeLessThanOrEqualTo(2 * spectrum.NormalizedLargest * gradient.Loss * (1 + 1e-10));
    }

    [Fact]
    public void TheLossSplitSumsToTheLossAndPutsEverythingInTheFullEigenspace()
    {
        using var network = Network();
        var x = Inputs(N, D, 1);
        var y = Targets(N, C, 2, oneHot: false);
        double loss = network.Loss(x, y, NetworkLoss.MeanSquaredError);

        var split = TangentKernelDiagnostics.Spectrum(network, x, y, new TangentKernelOptions { TopCount = 3 });
        split.Loss!.Value.Should().BeApproximately(loss, 1e-12 * loss);
        (split.TopSpaceLoss!.Value + split.RestLoss!.Value).Should().BeApproximately(loss, 1e-10 * loss);
        split.TopSpaceLoss.Value.Should().BePositive();
        split.RestLoss.Value.Should().BePositive();

        var all = TangentKernelDiagnostics.Spectrum(network, x, y, new TangentKernelOptions { TopCount = N * C });
        all.TopSpaceLoss!.Value.Should().BeApproximately(loss, 1e-10 * loss);
        all.RestLoss!.Value.Should().BeApproximately(0, 1e-10 * loss);
    }

    [Fact]
    public void TheLanczosPathEqualsTheDensePath()
    {
        using var network = Network();
        var x = Inputs(N, D, 1);
        var y = Targets(N, C, 2, oneHot: false);
        var dense = TangentKernelDiagnostics.Spectrum(network, x, y, new TangentKernelOptions { Method = TangentKernelMethod.Dense, TopCount = 4 });
        var lanczos = TangentKernelDiagnostics.Spectrum(network, x, y, new TangentKernelOptions { Method = TangentKernelMethod.Lanczos, TopCount = 4, Lanczos = new LanczosOptions { Seed = 5 } });

        lanczos.Method.Should().Be(TangentKernelMethod.Lanczos);
        lanczos.Converged.Should().BeTrue();
        lanczos.SmallestConverged.Should().BeTrue();
        lanczos.OperatorApplications.Should().BePositive();
        lanczos.Eigenvalues.Should().HaveCount(4);
        for (int i = 0; i < 4; i++)
        {
            lanczos.Eigenvalues[i].Should().BeApproximately(dense.Eigenvalues[i], 1e-8 * dense.Largest);
        }

        lanczos.Smallest.Should().BeApproximately(dense.Smallest, 1e-8 * dense.Largest);
        lanczos.TopSpaceLoss!.Value.Should().BeApproximately(dense.TopSpaceLoss!.Value, 1e-8 * dense.Loss!.Value);
        lanczos.RestLoss!.Value.Should().BeApproximately(dense.RestLoss!.Value, 1e-8 * dense.Loss.Value);
    }

    [Fact]
    public void TheKernelMovementIsZeroForTheSameNetworkAndTheFrobeniusRatioOtherwise()
    {
        using var initial = Network();
        using var same = initial.Clone();
        var x = Inputs(N, D, 1);
        TangentKernelDiagnostics.RelativeMovement(initial, same, x).Should().Be(0);

        using var moved = initial.Clone();
        moved.SetParameters(initial.GetParameters() + (0.05 * Direction(initial.ParameterCount, 9)));
        var theta0 = EmpiricalNtk.Compute(initial, x);
        var theta1 = EmpiricalNtk.Compute(moved, x);
        double expected = (theta1 - theta0).FrobeniusNorm() / theta0.FrobeniusNorm();

        double movement = TangentKernelDiagnostics.RelativeMovement(initial, moved, x);
        expected.Should().BePositive();
        movement.Should().BeApproximately(expected, 1e-12 * expected);
    }

    [Fact]
    public void TheFloatSpectrumMatchesTheDoubleOne()
    {
        using var network = Network();
        using var single = FullyConnectedNetwork<float>.FromParameters(network.Architecture, network.GetParameters().Map(v => (float)v));
        var x = Inputs(N, D, 1);
        var y = Targets(N, C, 2, oneHot: false);
        var expected = TangentKernelDiagnostics.Spectrum(network, x, y, new TangentKernelOptions { Method = TangentKernelMethod.Lanczos, TopCount = 3 });
        var actual = TangentKernelDiagnostics.Spectrum(single, x.Map(v => (float)v), y.Map(v => (float)v), new TangentKernelOptions { Method = TangentKernelMethod.Lanczos, TopCount = 3, Lanczos = new LanczosOptions { Tolerance = 1e-5 } });
        for (int i = 0; i < 3; i++)
        {
            actual.Eigenvalues[i].Should().BeApproximately(expected.Eigenvalues[i], 1e-4 * expected.Largest);
        }

        actual.TopSpaceLoss!.Value.Should().BeApproximately(expected.TopSpaceLoss!.Value, 1e-4 * expected.Loss!.Value);
    }

    [Fact]
    public void BadInputIsRejectedNamingTheArgument()
    {
        using var network = Network();
        var x = Inputs(N, D, 1);
        FluentActions.Invoking(() => TangentKernelDiagnostics.Spectrum(network, x, Targets(N, C + 1, 2, oneHot: false)))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("targets");
        FluentActions.Invoking(() => TangentKernelDiagnostics.Spectrum(network, x, null, new TangentKernelOptions { TopCount = (N * C) + 1 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("options");
        FluentActions.Invoking(() => TangentKernelDiagnostics.RelativeMovement(Matrix<double>.Build.Dense(2, 2), Matrix<double>.Build.DenseIdentity(2)))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("initialKernel");
    }
}
