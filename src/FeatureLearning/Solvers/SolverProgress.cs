namespace FeatureLearning.Solvers;

/// <summary>One iteration of the Nyström solver's preconditioned conjugate gradients.</summary>
/// <param name="Round">The RFM round the solve belongs to (0 for a kernel ridge fit).</param>
/// <param name="Iteration">CG iteration, from 1.</param>
/// <param name="MaxIterations">The iteration cap (<see cref="NystromSolver.MaxIterations"/>).</param>
/// <param name="RelativeResidual">The largest relative residual over the outputs after this iteration (see <see cref="NystromReport.ResidualHistory"/>).</param>
public readonly record struct SolverProgress(int Round, int Iteration, int MaxIterations, double RelativeResidual)
{
    /// <summary>One line: <c>CG 12/100: residual 3.1e-05</c>.</summary>
    /// <returns>The line.</returns>
    public override string ToString() => $"CG {Iteration}/{MaxIterations}: residual {RelativeResidual:G3}";
}
