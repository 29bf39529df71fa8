namespace FeatureLearning.Solvers;

/// <summary>
/// Options of the Nyström kernel solver (Falkon: Rudi, Carratino and Rosasco 2017; Meanti et al. 2020): the predictor is
/// restricted to m centres, f(x) = Σ_j β_j k_M(x, c_j), and β solves the Nyström normal equations by conjugate gradients
/// with a preconditioner built from two m × m Cholesky factorizations.
/// </summary>
/// <remarks>
/// <para><b>The system.</b> With the library's ridge convention (the exact solver solves (K + λI)α = Y), the Nyström
/// coefficients solve (K_nmᵀK_nm + λK_mm)β = K_nmᵀY, the minimiser of ‖K_nmβ − Y‖² + λβᵀK_mmβ. This is Falkon's system
/// (K_nmᵀK_nm + λ_F n K_mm)β = K_nmᵀY with λ_F = λ/n, and with all n points as centres it is K(K + λI)β = KY, so β is the
/// exact solver's α.</para>
/// <para><b>The preconditioner.</b> K_mm = LLᵀ (lower Cholesky factor, jitter retry of <see cref="Compute.CholeskyOptions"/>;
/// Falkon's T is Lᵀ) and LᵀL/m + (λ/n)I = L_A L_Aᵀ (Falkon's A is L_Aᵀ). Then P = (1/n) L⁻ᵀ(LᵀL/m + (λ/n)I)⁻¹L⁻¹ has
/// P⁻¹ = (n/m)K_mm² + λK_mm, which is what K_nmᵀK_nm + λK_mm is on average when the centres are a uniform sample
/// (K_nmᵀK_nm ≈ (n/m)K_mm²), so PH is close to the identity and CG converges in a number of iterations that hardly depends
/// on λ or n. The regulariser uses LLᵀ (K_mm plus any jitter), as Falkon does.</para>
/// <para><b>Memory.</b> Two m × m matrices (L and L_A), the inputs (n × d) and targets (n × c), a few m × c vectors, and
/// K_nm: kept whole (n × m) when it fits <see cref="MemoryBudgetBytes"/>, otherwise recomputed <see cref="BlockRows"/> rows
/// at a time in every iteration (a BlockRows × m block live).</para>
/// </remarks>
public sealed record NystromSolver : KernelSolver
{
    /// <summary>The default of <see cref="BlockRows"/>.</summary>
    public const int DefaultBlockRows = 2048;

    /// <summary>Number of centres m ≥ 1 (default 1,000); when m ≥ n all n training points are the centres.</summary>
    public int Centres { get; init; } = 1000;

    /// <summary>Seed of the centre sample (and of the pilot sample of <see cref="CentreSelection.ApproximateLeverage"/>).</summary>
    public int Seed { get; init; }

    /// <summary>How the centres are drawn (default: uniformly without replacement).</summary>
    public CentreSelection Selection { get; init; } = CentreSelection.Uniform;

    /// <summary>The cap on conjugate-gradient iterations (default 100).</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>
    /// CG stops when every output's relative residual (<see cref="NystromReport.ResidualHistory"/>) is at most this; null
    /// (the default) for 1e-7 in double precision and 1e-4 in single precision.
    /// </summary>
    public double? Tolerance { get; init; }

    /// <summary>K_nm is kept whole when n·m elements take at most this many bytes (default 1 GiB); otherwise it is streamed in row blocks.</summary>
    public long MemoryBudgetBytes { get; init; } = 1L << 30;

    /// <summary>
    /// Rows per block where K_nm is streamed and where training predictions are formed (default 2,048); an RFM on this
    /// solver also takes its AGOP sample this many rows at a time unless <see cref="Rfm.RfmOptions.BlockSize"/> is set. On a
    /// CPU backend a stored K_nm is also multiplied in row blocks, of at most this many rows and about 4 MiB, K_b·v and
    /// K_bᵀ(K_b·v) one after the other, so that each CG iteration reads K_nm from memory once rather than twice.
    /// </summary>
    public int BlockRows { get; init; } = DefaultBlockRows;

    /// <summary>The tolerance for element type <typeparamref name="T"/>: <see cref="Tolerance"/> or its precision's default.</summary>
    internal double ToleranceFor<T>() => Tolerance ?? (typeof(T) == typeof(float) ? 1e-4 : 1e-7);

    /// <inheritdoc />
    public override void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Centres, 1, nameof(Centres));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIterations, 1, nameof(MaxIterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockRows, 1, nameof(BlockRows));
        ArgumentOutOfRangeException.ThrowIfNegative(MemoryBudgetBytes, nameof(MemoryBudgetBytes));
        Validation.DefinedEnum(Selection, nameof(Selection));
        if (Tolerance is { } tolerance && (!double.IsFinite(tolerance) || tolerance <= 0 || tolerance >= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), tolerance, "The CG tolerance must lie in (0, 1).");
        }
    }

    /// <inheritdoc />
    internal override void Sealed()
    {
    }
}
