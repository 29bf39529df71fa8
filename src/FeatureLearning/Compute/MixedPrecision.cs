namespace FeatureLearning.Compute;

/// <summary>
/// Whether a double-precision ridge solve (K + λI)α = Y factors K + λI in single precision and refines α to double accuracy:
/// the single-precision Cholesky factor L preconditions iterative refinement, α ← α + (LLᵀ)⁻¹(Y − (K + λI)α) with the residual in
/// double, until the residual of every column is at the level of a double-precision solve (‖r‖₂ ≤ √n·ε·‖K + λI‖_F·‖α‖₂, ε the double
/// rounding unit, LAPACK's criterion for its mixed-precision solvers). The factorization, n³/3 of the solve's flops, then runs at the single-precision rate; each refinement step
/// costs one n × n × c GEMM and two single-precision triangular solves. Memory: an n × n single-precision copy beside K.
/// </summary>
/// <remarks>
/// When the single-precision factorization fails (K + λI is not positive definite to single precision) or the refinement stalls
/// before that level (the condition number is near or above 1/ε_single ≈ 1.7·10⁷), the solve falls back to the double-precision
/// factorization with its jitter policy, so the answer is never less accurate than the double solve's; the fallback costs the
/// time already spent. <see cref="CholeskyReport.RefinementSteps"/> says which path produced α.
/// </remarks>
public enum MixedPrecision
{
    /// <summary>Mixed precision for double-precision solves of order at least <see cref="CholeskyOptions.MixedPrecisionMinimumOrder"/>.</summary>
    Auto,

    /// <summary>Always factor in the precision of the data.</summary>
    Off,

    /// <summary>Mixed precision for every double-precision solve.</summary>
    On,
}
