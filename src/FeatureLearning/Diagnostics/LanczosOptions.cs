namespace FeatureLearning.Diagnostics;

/// <summary>Options of <see cref="Lanczos.Eigenpairs{T}"/>.</summary>
public sealed record LanczosOptions
{
    /// <summary>How many eigenvalues (k ≥ 1). Default 1.</summary>
    public int Count { get; init; } = 1;

    /// <summary>Which end of the spectrum. Default <see cref="SpectrumEnd.LargestMagnitude"/>.</summary>
    public SpectrumEnd Which { get; init; } = SpectrumEnd.LargestMagnitude;

    /// <summary>The largest Krylov dimension (operator applications); <see langword="null"/> for max(40, 4k + 20), at most n.</summary>
    public int? MaxIterations { get; init; }

    /// <summary>
    /// Convergence: every wanted Ritz pair has residual ‖Au − θu‖ ≤ Tolerance·‖A‖_est, with ‖A‖_est the largest of the
    /// |θ| and of |α_j| + β_j + β_(j−1) seen so far. The test is relative to ‖A‖, not to each eigenvalue: an eigenvalue
    /// much smaller than ‖A‖ (the smallest of an ill-conditioned kernel) is known to about Tolerance·‖A‖ in absolute
    /// terms. Default 1e-10.
    /// </summary>
    public double Tolerance { get; init; } = 1e-10;

    /// <summary>Whether to return the eigenvectors (Ritz vectors). Default <see langword="true"/>.</summary>
    public bool ComputeVectors { get; init; } = true;

    /// <summary>Seed of the Gaussian start vector (and of restarts after an invariant subspace). Default 0.</summary>
    public int Seed { get; init; }
}
