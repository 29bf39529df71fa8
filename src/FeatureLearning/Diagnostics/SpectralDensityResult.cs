namespace FeatureLearning.Diagnostics;

/// <summary>A spectral density by stochastic Lanczos quadrature.</summary>
public sealed record SpectralDensityResult
{
    /// <summary>The quadrature nodes (Ritz values) of every run, concatenated.</summary>
    public required IReadOnlyList<double> Nodes { get; init; }

    /// <summary>The weight of each node: the squared first component of its tridiagonal eigenvector over the number of runs (they sum to 1).</summary>
    public required IReadOnlyList<double> Weights { get; init; }

    /// <summary>The smoothing width σ used.</summary>
    public required double Sigma { get; init; }

    /// <summary>The grid of eigenvalues, from the smallest node − 4σ to the largest + 4σ.</summary>
    public required IReadOnlyList<double> Grid { get; init; }

    /// <summary>The smoothed density on the grid (integrates to 1 up to the grid's resolution).</summary>
    public required IReadOnlyList<double> Density { get; init; }

    /// <summary>Operator applications used.</summary>
    public required int Products { get; init; }

    /// <summary>The density's mass in [a, b] from the nodes, without smoothing: Σ weights of the nodes in [a, b].</summary>
    /// <param name="a">Lower end.</param>
    /// <param name="b">Upper end.</param>
    /// <returns>The fraction of eigenvalues estimated to lie in [a, b].</returns>
    public double Mass(double a, double b)
    {
        double mass = 0;
        for (int i = 0; i < Nodes.Count; i++)
        {
            if (Nodes[i] >= a && Nodes[i] <= b)
            {
                mass += Weights[i];
            }
        }

        return mass;
    }
}
