using FeatureLearning.Networks;
using FeatureLearning.Samples.TransitionToLinearity;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Networks;

/// <summary>
/// The core of samples/TransitionToLinearity (linked into the tests): the closed form ‖∇²f‖ = 1/√m of one hidden ReLU layer
/// (NTK parameterisation, ‖x‖² = d) at every width and the slope −1/2, and Lanczos against a dense eigendecomposition.
/// </summary>
public sealed class TransitionToLinearityTests
{
    [Fact]
    public void OneHiddenReluLayerHasHessianNormOneOverSqrtWidthAndSlopeMinusOneHalf()
    {
        int[] widths = [16, 32, 64, 128];
        var norms = new double[widths.Length];
        for (int i = 0; i < widths.Length; i++)
        {
            var runs = Enumerable.Range(0, 2).Select(s => HessianScaling.Measure(widths[i], 1, Activation.Relu, 10, s)).ToArray();
            foreach (var r in runs)
            {
                r.HessianNorm.Should().BeApproximately(1 / Math.Sqrt(widths[i]), 0.01 / Math.Sqrt(widths[i]));
                r.GradientNorm.Should().BeInRange(0.5, 1.5, "‖∇f‖² is the NTK Θ(x, x), 1 at infinite width");
            }

            norms[i] = runs.Average(r => r.HessianNorm);
        }

        HessianScaling.LogLogSlope(widths.Select(w => (double)w).ToArray(), norms).Should().BeApproximately(-0.5, 0.05);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(512)]
    public void OneHiddenTanhLayerHasTheNormOfItsLargestTwoByTwoBlock(int m)
    {
        // f = (1/√m) Σ vᵢ tanh(zᵢ), zᵢ = uᵢᵀx/√d, ‖x‖² = d: the Hessian is block diagonal with one 2 × 2 block per unit, in the
        // directions (uᵢ ∥ x, vᵢ): [[vᵢφ″(zᵢ), φ′(zᵢ)], [φ′(zᵢ), 0]]/√m, so ‖∇²f‖ = max_i (|a| + √(a² + 4b²))/(2√m).
        const int d = 10, seed = 4;
        var measured = HessianScaling.Measure(m, 1, Activation.Tanh, d, seed);
        var arch = new NetworkArchitecture { InputDimension = d, HiddenWidths = [m], OutputDimension = 1, Activation = Activation.Tanh };
        using var network = FullyConnectedNetwork<double>.Create(arch, seed);
        var w = network.GetParameters();
        var normal = new MathNet.Numerics.Distributions.Normal(0, 1, new Random(seed + 1_000_003));
        var x = Vector<double>.Build.Dense(d, _ => normal.Sample());
        x *= Math.Sqrt(d) / x.L2Norm();
        double expected = 0;
        for (int i = 0; i < m; i++)
        {
            double z = w.SubVector(i * d, d) * x / Math.Sqrt(d), v = w[(m * d) + m + i];
            double a = v * Activation.Tanh.SecondDerivative(z), b = Activation.Tanh.Derivative(z);
            expected = Math.Max(expected, (Math.Abs(a) + Math.Sqrt((a * a) + (4 * b * b))) / 2 / Math.Sqrt(m));
        }

        measured.HessianNorm.Should().BeApproximately(expected, 1e-6 * expected);
    }

    [Fact]
    public void TheLogLogSlopeOfAPowerLawIsItsExponent() => HessianScaling.LogLogSlope([1, 10, 100], [5, 0.5, 0.05]).Should().BeApproximately(-1, 1e-12);
}
