using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Solvers;
using Microsoft.Extensions.Logging;

namespace FeatureLearning.Rfm;

/// <summary>Options of <see cref="RecursiveFeatureMachine"/>.</summary>
public sealed record RfmOptions
{
    /// <summary>The kernel profile and its bandwidth (default Laplace, L = 10, as in the RFM papers).</summary>
    public IKernelFunction Kernel { get; init; } = new LaplaceKernel(10.0);

    /// <summary>The ridge λ ≥ 0 of each kernel solve (0 allowed: the Cholesky jitter retry is reported per round).</summary>
    public double Ridge { get; init; } = 1e-3;

    /// <summary>Number of rounds T ≥ 1: round t fits the kernel machine with M_t and, unless it is the last, sets M_{t+1} from its AGOP. T = 1 is plain kernel ridge.</summary>
    public int Rounds { get; init; } = 5;

    /// <summary>Learn a diagonal M (per-coordinate scales) instead of a full one.</summary>
    public bool Diagonal { get; init; }

    /// <summary>Subtract each output's mean gradient before forming the AGOP (the grokking setting).</summary>
    public bool CenterGradients { get; init; }

    /// <summary>
    /// Evaluate the AGOP on a seeded random sample of this many training points; null for all points with the exact solver and
    /// for min(n, <see cref="DefaultNystromAgopSampleSize"/>) with the Nyström solver.
    /// </summary>
    public int? AgopSampleSize { get; init; }

    /// <summary>The AGOP sample size of a Nyström RFM when <see cref="AgopSampleSize"/> is null.</summary>
    public const int DefaultNystromAgopSampleSize = 20_000;

    /// <summary>
    /// How each round's kernel machine is solved: <see cref="KernelSolver.Exact"/> (the default, the n × n Cholesky solve) or
    /// <see cref="KernelSolver.Nystrom(int, int)"/>. With the Nyström solver the centres are drawn once (seeded, from the
    /// training set, with the initial metric for leverage scores) and kept for every round; each round solves the Nyström
    /// system with its metric, and the AGOP is that of f(x) = Σ_j β_j k_M(x, c_j) over the centres, evaluated on the AGOP
    /// sample in blocks of <see cref="BlockSize"/> (or <see cref="NystromSolver.BlockRows"/>) rows. A round then holds two
    /// m × m factors, K_nm (n × m, or one block of it past <see cref="NystromSolver.MemoryBudgetBytes"/>), the AGOP's
    /// block × m kernel and weight blocks (and an m × m accumulator for the Gram form), and the data: no n × n matrix.
    /// The training errors of <see cref="RfmIteration"/> are then those of the predictor on every training point (K_nmβ,
    /// from the stored K_nm or block by block), not the exact solver's shortcut Kα = Y − λα.
    /// </summary>
    public KernelSolver Solver { get; init; } = KernelSolver.Exact;

    /// <summary>
    /// With the Nyström solver, called synchronously on the fitting thread after every CG iteration of every round (keep it
    /// short); not called with the exact solver. <see cref="RfmIteration.SolverIterations"/> records the count per round.
    /// </summary>
    public Action<SolverProgress>? OnSolverIteration { get; init; }

    /// <summary>
    /// Bounds the memory of a round beyond the n × n kernel matrix: the AGOP's derivative weights and the validation
    /// kernel matrix are formed at most this many rows at a time (two BlockSize × n buffers) instead of whole
    /// (m × n for an AGOP sample of m points, n × n without a sample). The managed backend does not form the validation
    /// kernel matrix (for 128 validation rows per thread or more): its product with α is computed tile by tile. Null (the default) forms them whole, which
    /// also lets the training kernel matrix and the derivative weights come out of one pass. The result is the same
    /// up to rounding; the price of blocks is a second evaluation of the kernel on the AGOP sample.
    /// </summary>
    /// <remarks>
    /// An RFM round holds K (n² elements) and, without blocks, the m × n weights: 20 GB in single precision at
    /// n = m = 50,000. With BlockSize = b it holds n² + 2bn elements plus O((n + m)·d + n·c·d) for the inputs and the
    /// AGOP's intermediates (the Gram form of the AGOP, chosen for many outputs, adds an n × n accumulator).
    /// </remarks>
    public int? BlockSize { get; init; }

    /// <summary>Seed of the AGOP sample.</summary>
    public int Seed { get; init; }

    /// <summary>The power p of the update M ← AGOP^p (1 by default; ½ for grokking), through a symmetric eigendecomposition for a full M.</summary>
    public double AgopPower { get; init; } = 1.0;

    /// <summary>Rescaling of M after each update (default: by its largest entry, as the reference implementation).</summary>
    public MetricNormalization Normalization { get; init; } = MetricNormalization.MaxEntry;

    /// <summary>
    /// Which AGOP formula to evaluate; <see cref="AgopForm.Auto"/> picks the cheapest for the shape, and for sparse training
    /// inputs (at most a quarter of the entries non-zero, such as one-hot encodings; checked once per fit) considers the
    /// sparse direct form too.
    /// </summary>
    public AgopForm AgopForm { get; init; } = AgopForm.Auto;

    /// <summary>The initial metric M_0 (default: the identity).</summary>
    public Metric InitialMetric { get; init; } = Metric.Identity;

    /// <summary>Which validation metric picks the returned round when a validation set is given.</summary>
    public SelectionMetric SelectBy { get; init; } = SelectionMetric.Auto;

    /// <summary>Keep every M_t in <see cref="RfmModel{T}.FeatureMatrixHistory"/> (d × d per round).</summary>
    public bool RecordFeatureMatrices { get; init; }

    /// <summary>The compute backend; null for <see cref="ComputeBackends.Default"/>.</summary>
    public IComputeBackend? Backend { get; init; }

    /// <summary>The jitter policy of each Cholesky solve.</summary>
    public CholeskyOptions Cholesky { get; init; } = CholeskyOptions.Default;

    /// <summary>
    /// Called synchronously on the fitting thread with each round's record as soon as the round ends, in order, before
    /// the next round starts and before <c>Fit</c> returns (and before the <see cref="IProgress{T}"/> report). Unlike
    /// <see cref="Progress{T}"/>, which posts to the thread pool or a synchronisation context, nothing is lost or
    /// reordered; keep it short, since the fit waits for it. An exception it throws ends the fit.
    /// </summary>
    public Action<RfmIteration>? OnRound { get; init; }

    /// <summary>Optional logger: jitter at Warning, per-round metrics at Debug.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>The options of the grokking paper: Gaussian kernel L = 2.5, ridge 0, M ← AGOP^{1/2} unnormalised, centred gradients.</summary>
    /// <param name="rounds">Number of rounds (30 in the paper's figures).</param>
    /// <returns>The options.</returns>
    public static RfmOptions Grokking(int rounds = 30) => new()
    {
        Kernel = new GaussianKernel(2.5),
        Ridge = 0,
        Rounds = rounds,
        CenterGradients = true,
        AgopPower = 0.5,
        Normalization = MetricNormalization.None,
    };

    /// <summary>Checks the options, throwing <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        Validation.KernelAndRidge(Kernel, Ridge);
        ArgumentOutOfRangeException.ThrowIfLessThan(Rounds, 1, nameof(Rounds));
        if (AgopSampleSize is { } size)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(AgopSampleSize));
        }

        if (BlockSize is { } block)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(block, 1, nameof(BlockSize));
        }

        if (!double.IsFinite(AgopPower) || AgopPower <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(AgopPower), AgopPower, "The AGOP power must be positive and finite.");
        }

        Validation.DefinedEnum(Normalization, nameof(Normalization));
        Validation.DefinedEnum(AgopForm, nameof(AgopForm));
        Validation.DefinedEnum(SelectBy, nameof(SelectBy));
        if (InitialMetric is null)
        {
            throw new ArgumentNullException(nameof(InitialMetric), "An initial metric is required (use Metric.Identity).");
        }

        if (Diagonal && InitialMetric.Kind == MetricKind.Full)
        {
            throw new ArgumentException("A diagonal RFM needs an identity or diagonal initial metric.", nameof(InitialMetric));
        }

        if (Cholesky is null)
        {
            throw new ArgumentNullException(nameof(Cholesky), "Cholesky options are required.");
        }

        Cholesky.Validate();
        if (Solver is null)
        {
            throw new ArgumentNullException(nameof(Solver), "A solver is required (use KernelSolver.Exact).");
        }

        Solver.Validate();
    }
}
