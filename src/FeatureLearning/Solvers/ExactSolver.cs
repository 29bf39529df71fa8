namespace FeatureLearning.Solvers;

/// <summary>
/// The exact kernel solve: K + λI is formed and factored by Cholesky (with the jitter retry of
/// <see cref="Compute.CholeskyOptions"/>), n² memory and n³ time. The default of every kernel machine.
/// </summary>
public sealed record ExactSolver : KernelSolver
{
    /// <inheritdoc />
    public override void Validate()
    {
    }

    /// <inheritdoc />
    internal override void Sealed()
    {
    }
}
