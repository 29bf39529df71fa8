namespace FeatureLearning.Diagnostics;

/// <summary>
/// The spectrum of the empirical NTK Θ = J·Jᵀ (n·c × n·c) of a network on n samples with c outputs, in the normalisation of
/// <see cref="Ntk.EmpiricalNtk"/> (no 1/n), with the quantities of the square loss derived from it.
/// </summary>
/// <remarks>
/// The library's mean-squared error is L = (1/2n)·Σᵢ‖f(xᵢ) − yᵢ‖², so under gradient flow the residual r = f − y moves by
/// ṙ = −(Θ/n)·r and ‖∇L‖² = rᵀΘr/n² ≥ 2·(λ_min(Θ)/n)·L: the matrix that matters for the loss is Θ/n, whose largest
/// eigenvalue is also the top eigenvalue of the Gauss–Newton matrix JᵀJ/n (compare it with the sharpness and 2/η). The
/// PL constant is therefore μ = λ_min(Θ)/n (½‖∇L‖² ≥ μ·L).
/// </remarks>
public sealed record TangentKernelSpectrum
{
    /// <summary>n, the number of samples.</summary>
    public required int SampleCount { get; init; }

    /// <summary>c, the number of outputs.</summary>
    public required int OutputCount { get; init; }

    /// <summary>The path taken (<see cref="TangentKernelMethod.Dense"/> or <see cref="TangentKernelMethod.Lanczos"/>).</summary>
    public required TangentKernelMethod Method { get; init; }

    /// <summary>Eigenvalues of Θ in decreasing order: all n·c of them on the dense path, the top k on the Lanczos path.</summary>
    public required IReadOnlyList<double> Eigenvalues { get; init; }

    /// <summary>λ_max(Θ).</summary>
    public required double Largest { get; init; }

    /// <summary>λ_min(Θ) (may be a rounding-level negative number when Θ is singular, e.g. when P &lt; n·c).</summary>
    public required double Smallest { get; init; }

    /// <summary>κ = λ_max / λ_min when λ_min &gt; 0; <see cref="double.PositiveInfinity"/> when λ_min ≤ 0 (Θ singular to rounding).</summary>
    public double ConditionNumber => Smallest > 0 ? Largest / Smallest : double.PositiveInfinity;

    /// <summary>λ_max(Θ)/n: the top eigenvalue in the loss's normalisation (that of the Gauss–Newton matrix JᵀJ/n).</summary>
    public double NormalizedLargest => Largest / SampleCount;

    /// <summary>The PL constant of the square loss, μ = max(λ_min(Θ), 0)/n, so that ½‖∇L‖² ≥ μ·L (see the remarks).</summary>
    public double PlConstant => Math.Max(Smallest, 0) / SampleCount;

    /// <summary>k, the dimension of the top eigenspace used by the loss split.</summary>
    public required int TopCount { get; init; }

    /// <summary>L = (1/2n)·‖r‖² with r = f(X) − Y; <see langword="null"/> when no targets were given.</summary>
    public double? Loss { get; init; }

    /// <summary>(1/2n)·‖P_k r‖², P_k the orthogonal projector on the top-k eigenvectors of Θ; <see langword="null"/> without targets.</summary>
    public double? TopSpaceLoss { get; init; }

    /// <summary>
    /// (1/2n)·‖(I − P_k) r‖², the loss outside the top-k eigenspace (dense path: summed over the other eigenvectors; Lanczos
    /// path: L − L_top, clamped at 0); <see langword="null"/> without targets. TopSpaceLoss + RestLoss = Loss.
    /// </summary>
    public double? RestLoss { get; init; }

    /// <summary>The operator applications of the Lanczos path (0 on the dense path).</summary>
    public required int OperatorApplications { get; init; }

    /// <summary>Whether every Lanczos run met its tolerance (always true on the dense path).</summary>
    public required bool Converged { get; init; }

    /// <summary>
    /// Whether the run for <see cref="Smallest"/> met its tolerance (always true on the dense path). The smallest eigenvalue
    /// of a kernel with a cluster of eigenvalues near 0 converges slowly; when this is false, <see cref="Smallest"/> is
    /// the best Ritz value within the iteration cap (an upper bound on λ_min), so κ and μ are bounds only. When it is true,
    /// λ_min is known to about the Lanczos tolerance times λ_max in absolute terms (see <see cref="LanczosOptions.Tolerance"/>):
    /// for a kernel with λ_min far below Tolerance·λ_max, κ and μ are not resolved.
    /// </summary>
    public required bool SmallestConverged { get; init; }
}
