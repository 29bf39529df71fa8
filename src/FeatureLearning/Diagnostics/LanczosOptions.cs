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
    /// Convergence: every wanted Ritz pair has residual ‖Au − θu‖ ≤ Tolerance·‖A‖_est, with ‖A‖_est the largest |θ| so
    /// far. Default 1e-10.
    /// </summary>
    public double Tolerance { get; init; } = 1e-10;

    /// <summary>Whether to return the eigenvectors (Ritz vectors). Default <see langword="true"/>.</summary>
    public bool ComputeVectors { get; init; } = true;

    /// <summary>Seed of the Gaussian start vector (and of restarts after an invariant subspace). Default 0.</summary>
    public int Seed { get; init; }
}
