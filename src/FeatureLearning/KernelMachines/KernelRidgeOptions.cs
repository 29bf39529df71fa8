using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Solvers;
using Microsoft.Extensions.Logging;

namespace FeatureLearning.KernelMachines;

/// <summary>Options of <see cref="KernelRidge"/>: the kernel, its metric, the ridge and where to compute.</summary>
public sealed record KernelRidgeOptions
{
    /// <summary>The kernel profile (default: <see cref="LaplaceKernel"/> with bandwidth 10, as in the RFM papers).</summary>
    public IKernelFunction Kernel { get; init; } = new LaplaceKernel(10.0);

    /// <summary>The Mahalanobis metric M of the kernel (default: the identity).</summary>
    public Metric Metric { get; init; } = Metric.Identity;

    /// <summary>
    /// The ridge λ ≥ 0 added to the kernel matrix: the coefficients solve (K + λI)α = y. λ = 0 is allowed
    /// (kernel interpolation); the Cholesky jitter retry then keeps the solve defined and is reported.
    /// </summary>
    public double Ridge { get; init; } = 1e-3;

    /// <summary>
    /// How the coefficients are solved for: <see cref="KernelSolver.Exact"/> (the default; (K + λI)α = Y by Cholesky, n²
    /// memory) or <see cref="KernelSolver.Nystrom(int, int)"/> (m centres and preconditioned conjugate gradients on
    /// (K_nmᵀK_nm + λK_mm)β = K_nmᵀY, m² + n·m or m² + block·m memory; see <see cref="NystromSolver"/>).
    /// </summary>
    public KernelSolver Solver { get; init; } = KernelSolver.Exact;

    /// <summary>The compute backend; <see langword="null"/> uses <see cref="ComputeBackends.Default"/>.</summary>
    public IComputeBackend? Backend { get; init; }

    /// <summary>The jitter policy of the Cholesky solve.</summary>
    public CholeskyOptions Cholesky { get; init; } = CholeskyOptions.Default;

    /// <summary>Optional logger: jitter added to the solve is logged as a warning.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Checks the options, throwing <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        Validation.KernelAndRidge(Kernel, Ridge);
        if (Metric is null)
        {
            throw new ArgumentNullException(nameof(Metric), "A metric is required (use Metric.Identity).");
        }

        if (Cholesky is null)
        {
            throw new ArgumentNullException(nameof(Cholesky), "Cholesky options are required (use CholeskyOptions.Default).");
        }

        Cholesky.Validate();
        if (Solver is null)
        {
            throw new ArgumentNullException(nameof(Solver), "A solver is required (use KernelSolver.Exact).");
        }

        Solver.Validate();
    }
}
