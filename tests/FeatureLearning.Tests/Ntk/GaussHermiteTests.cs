using FeatureLearning.Ntk;

namespace FeatureLearning.Tests.Ntk;

public sealed class GaussHermiteTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(48)]
    [InlineData(200)]
    public void RuleIntegratesGaussianMomentsExactly(int order)
    {
        var (nodes, weights) = GaussHermite.Rule(order);
        // E[g^(2k)] = (2k − 1)!!, E[g^(2k+1)] = 0, exact for degree ≤ 2n − 1 (checked up to degree 16).
        double doubleFactorial = 1;
        for (int k = 0; k <= Math.Min(8, order - 1); k++)
        {
            double even = 0, odd = 0;
            for (int i = 0; i < nodes.Length; i++)
            {
                even += weights[i] * Math.Pow(nodes[i], 2 * k);
                odd += weights[i] * Math.Pow(nodes[i], (2 * k) + 1);
            }

            even.Should().BeApproximately(doubleFactorial, 1e-12 * doubleFactorial, $"E[g^{2 * k}]");
            odd.Should().BeApproximately(0, 1e-12 * doubleFactorial);
            doubleFactorial *= (2 * k) + 1;
        }

        // E[cos(g)] = e^(-1/2): an entire integrand converges fast.
        double cos = 0;
        for (int i = 0; i < nodes.Length; i++)
        {
            cos += weights[i] * Math.Cos(nodes[i]);
        }

        if (order >= 48)
        {
            cos.Should().BeApproximately(Math.Exp(-0.5), 1e-14);
        }
    }
}
