using System.Collections.Concurrent;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Ntk;

/// <summary>
/// Gauss–Hermite rules for the standard normal weight: Σᵢ wᵢ f(gᵢ) ≈ E[f(g)], g ~ N(0, 1), exact for polynomials of
/// degree ≤ 2n − 1. Built by Golub–Welsch (the eigenvalues of the Jacobi matrix of the probabilists' Hermite
/// polynomials, off-diagonal √k) and cached per order.
/// </summary>
internal static class GaussHermite
{
    private static readonly ConcurrentDictionary<int, (double[] Nodes, double[] Weights)> Rules = new();

    public static (double[] Nodes, double[] Weights) Rule(int order) => Rules.GetOrAdd(order, Build);

    private static (double[] Nodes, double[] Weights) Build(int n)
    {
        var jacobi = Matrix<double>.Build.Dense(n, n);
        for (int k = 1; k < n; k++)
        {
            jacobi[k - 1, k] = Math.Sqrt(k);
            jacobi[k, k - 1] = Math.Sqrt(k);
        }

        var evd = jacobi.Evd(Symmetricity.Symmetric);
        var nodes = new double[n];
        var weights = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            nodes[i] = evd.EigenValues[i].Real;
            double first = evd.EigenVectors[0, i];
            weights[i] = first * first;
            total += weights[i];
        }

        // Symmetrise (the exact rule is symmetric about 0) and normalise the weights to sum to one.
        var order = Enumerable.Range(0, n).OrderBy(i => nodes[i]).ToArray();
        var sortedNodes = order.Select(i => nodes[i]).ToArray();
        var sortedWeights = order.Select(i => weights[i] / total).ToArray();
        for (int i = 0; i < n / 2; i++)
        {
            double x = 0.5 * (sortedNodes[n - 1 - i] - sortedNodes[i]);
            double w = 0.5 * (sortedWeights[n - 1 - i] + sortedWeights[i]);
            sortedNodes[i] = -x;
            sortedNodes[n - 1 - i] = x;
            sortedWeights[i] = w;
            sortedWeights[n - 1 - i] = w;
        }

        if (n % 2 == 1)
        {
            sortedNodes[n / 2] = 0;
        }

        return (sortedNodes, sortedWeights);
    }
}
