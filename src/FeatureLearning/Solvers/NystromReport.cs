namespace FeatureLearning.Solvers;

/// <summary>What a Nyström solve did: its centres, the conjugate-gradient iterations and residuals, and its memory mode.</summary>
public sealed record NystromReport
{
    /// <summary>Number of centres m.</summary>
    public required int Centres { get; init; }

    /// <summary>Row indices of the centres in the training inputs, increasing.</summary>
    public required IReadOnlyList<int> CentreIndices { get; init; }

    /// <summary>CG iterations taken (0 when the right-hand side is zero).</summary>
    public required int Iterations { get; init; }

    /// <summary>Whether every output reached <see cref="NystromSolver.Tolerance"/> before <see cref="NystromSolver.MaxIterations"/>.</summary>
    public required bool Converged { get; init; }

    /// <summary>
    /// Per iteration, the largest over the outputs k of the relative residual in the preconditioned norm,
    /// √(r_kᵀ P r_k) / √(b_kᵀ P b_k) with r_k = b_k − Hβ_k, b = K_nmᵀY and P the preconditioner (the residual of the
    /// equivalent CG on the preconditioned system, Falkon's stopping quantity). Element 0 is the start (1, or 0 for a zero
    /// right-hand side); element i is after iteration i.
    /// </summary>
    public required IReadOnlyList<double> ResidualHistory { get; init; }

    /// <summary>Whether K_nm was formed once and kept (it fitted <see cref="NystromSolver.MemoryBudgetBytes"/>) rather than recomputed in row blocks every iteration.</summary>
    public required bool KernelMatrixStored { get; init; }

    /// <summary>Jitter the Cholesky factorization of K_mm needed (0 when none): the solve uses K_mm + jitter·I.</summary>
    public required double Jitter { get; init; }

    /// <summary>The final value of <see cref="ResidualHistory"/>.</summary>
    public double FinalResidual => ResidualHistory[^1];
}
