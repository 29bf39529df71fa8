using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>The eigenpairs found by <see cref="Lanczos.Eigenpairs{T}"/> and how they were found.</summary>
/// <typeparam name="T">The operator's element type.</typeparam>
public sealed record LanczosResult<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The eigenvalues (Ritz values), in the order asked for: by decreasing |λ|, decreasing or increasing λ.</summary>
    public required IReadOnlyList<double> Eigenvalues { get; init; }

    /// <summary>The eigenvectors as columns (n × k, unit norm), or <see langword="null"/> when not asked for.</summary>
    public Matrix<T>? Eigenvectors { get; init; }

    /// <summary>The residual norms ‖Au − θu‖ of the returned pairs (from the Lanczos relation: β_m·|last component|).</summary>
    public required IReadOnlyList<double> Residuals { get; init; }

    /// <summary>The Krylov dimension reached (= operator applications).</summary>
    public required int Iterations { get; init; }

    /// <summary>Whether every returned pair met the tolerance; when false the values are the best found within the cap.</summary>
    public required bool Converged { get; init; }

    /// <summary>How many invariant subspaces were met (each followed by a restart with a fresh random vector).</summary>
    public required int Restarts { get; init; }
}
