namespace FeatureLearning.Solvers;

/// <summary>
/// How a kernel machine solves for its coefficients: <see cref="Exact"/> (a Cholesky solve of the n × n system, the
/// default) or <see cref="Nystrom(int, int)"/> (Nyström centres and preconditioned conjugate gradients, for large n).
/// Used by <see cref="KernelMachines.KernelRidgeOptions.Solver"/> and <see cref="Rfm.RfmOptions.Solver"/>.
/// </summary>
/// <remarks>The two kinds are the sealed records <see cref="ExactSolver"/> and <see cref="NystromSolver"/>; there are no
/// others.</remarks>
public abstract record KernelSolver
{
    /// <summary>The exact solve (K + λI)α = Y by a Cholesky factorization: n² memory, n³ time.</summary>
    public static ExactSolver Exact { get; } = new();

    /// <summary>The Nyström solver with <paramref name="centres"/> centres drawn with <paramref name="seed"/> and the other options at their defaults.</summary>
    /// <param name="centres">Number of centres m ≥ 1 (all n points when m ≥ n).</param>
    /// <param name="seed">Seed of the centre sample.</param>
    /// <returns>The options record; change the others with a <c>with</c> expression.</returns>
    public static NystromSolver Nystrom(int centres, int seed = 0) => new() { Centres = centres, Seed = seed };

    /// <summary>Checks the options, throwing <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public abstract void Validate();

    /// <summary>Keeps the set of solver kinds closed (no derived types outside this assembly).</summary>
    internal abstract void Sealed();
}
