namespace FeatureLearning.Diagnostics;

/// <summary>Progress of a Lanczos run, reported after each convergence check.</summary>
/// <param name="Iteration">The Krylov dimension reached.</param>
/// <param name="MaxIterations">The cap.</param>
/// <param name="LargestRelativeResidual">The largest residual of the wanted pairs divided by ‖A‖_est.</param>
public readonly record struct LanczosProgress(int Iteration, int MaxIterations, double LargestRelativeResidual);
