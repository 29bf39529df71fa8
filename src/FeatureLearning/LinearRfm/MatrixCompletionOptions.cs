using FeatureLearning.Compute;

namespace FeatureLearning.LinearRfm;

/// <summary>Options of <see cref="MatrixCompletion"/>.</summary>
public sealed record MatrixCompletionOptions
{
    /// <summary>The exponent α of M = (WᵀW/n)^α: 1 (the reference default, P = M² by one GEMM), ½ (P = WᵀW/n directly), or another positive value (through an eigendecomposition of the d × d matrix).</summary>
    public double Alpha { get; init; } = 1.0;

    /// <summary>The ridge λ &gt; 0 of the per-row solves (P[I,I] + λI)a = y.</summary>
    public double Ridge { get; init; } = 0.05;

    /// <summary>
    /// The ridge schedule: multiply the ridge by this factor (in (0, 1]) whenever the held-out error reaches a plateau (see
    /// <see cref="Patience"/>) or falls below <see cref="RidgeDecayBelow"/>, down to the smaller of <see cref="Ridge"/> and
    /// <see cref="MinimumRidge"/>; 1 keeps the ridge constant. The default 0.1 starts with a large ridge, which descends fast
    /// at first but settles on an error it biases, and lowers it tenfold each time the descent stalls.
    /// </summary>
    public double RidgeDecay { get; init; } = 0.1;

    /// <summary>
    /// A held-out error under which the ridge is lowered every iteration, whether or not on a plateau (finite, ≥ 0; 0, the
    /// default, lowers it on plateaus only). The reference's schedule, λ ← min(λ, 1e-3) once the error is below 0.1, is
    /// <c>RidgeDecay = 0.02, RidgeDecayBelow = 0.1, MinimumRidge = 1e-3</c> from λ = 0.05.
    /// </summary>
    public double RidgeDecayBelow { get; init; }

    /// <summary>The smallest ridge the schedule goes down to (positive, finite); a <see cref="Ridge"/> below it is never lowered.</summary>
    public double MinimumRidge { get; init; } = 1e-4;

    /// <summary>The cap on iterations: the fit normally stops earlier, on a plateau at the smallest ridge (<see cref="Patience"/>), on <see cref="RelativeTolerance"/> or on <see cref="TargetHeldOutMse"/>.</summary>
    public int MaxIterations { get; init; } = 5000;

    /// <summary>
    /// Fraction of the observed entries held out to measure the error, drive the ridge schedule and stop (0 disables all
    /// three: the fit then runs <see cref="MaxIterations"/> at a constant ridge). The default 0.02 (it was 0.05): every entry
    /// held out is one the rows cannot fit from until the refit (<see cref="RefitWithHeldOut"/>), and near the sampling limit
    /// that slows the descent.
    /// </summary>
    public double HeldOutFraction { get; init; } = 0.02;

    /// <summary>
    /// The window W (≥ 1) of the plateau test on the held-out error e: a plateau is when the mean of ln e over the last W/2
    /// iterations is not below the mean over the W/2 before them by ln(1 − <see cref="MinimumRelativeImprovement"/>), i.e.
    /// the error fell by less than that fraction in W/2 iterations (or rose). The test starts W iterations after the start
    /// and after each change of the ridge. On a plateau the ridge is lowered (<see cref="RidgeDecay"/>) or, at its smallest,
    /// the fit stops; the iterate with the best held-out error is the one returned (or refitted, <see cref="RefitWithHeldOut"/>).
    /// </summary>
    public int Patience { get; init; } = 100;

    /// <summary>
    /// The relative improvement ε ∈ [0, 1) of the plateau test (see <see cref="Patience"/>): the held-out error must fall by
    /// at least this fraction every W/2 iterations, on average, for the fit to go on at the same ridge.
    /// </summary>
    public double MinimumRelativeImprovement { get; init; } = 0.05;

    /// <summary>
    /// After the last iteration, take one more step from the selected iterate with every observed entry, the held-out ones
    /// included, and return that W (the default; it is the last record of the history, with a NaN held-out error).
    /// </summary>
    public bool RefitWithHeldOut { get; init; } = true;

    /// <summary>
    /// Stop once the held-out error is at most this fraction of the mean square of the observed values (finite, ≥ 0; 0 never
    /// stops this way): 1e-4, the default, is an RMS error of 1% of the values' RMS.
    /// </summary>
    public double RelativeTolerance { get; init; } = 1e-4;

    /// <summary>Stop once the held-out error is below this (finite, ≥ 0; 0, the default, never stops early this way).</summary>
    public double TargetHeldOutMse { get; init; }

    /// <summary>
    /// What to do with a row or column of the matrix that has no training entry (none observed, or all held out). False
    /// (the default): <see cref="MatrixCompletion.Fit{T}"/> throws <see cref="ArgumentException"/> naming the first such row or
    /// column, since lin-RFM has nothing to infer it from. True: the fit goes on and that row or column of the completed
    /// matrix is exactly zero (a deliberate, documented choice, e.g. for a cold-start user).
    /// </summary>
    public bool AllowEmptyRowsAndColumns { get; init; }

    /// <summary>Seed of the held-out split.</summary>
    public int Seed { get; init; }

    /// <summary>The compute backend of every solve and product (the grouped row solves, WᵀW, the matrix power of P); null for <see cref="ComputeBackends.Default"/>.</summary>
    public IComputeBackend? Backend { get; init; }

    /// <summary>Checks the options, throwing <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        Validation.PositiveFinite(Alpha, nameof(Alpha), "exponent α");
        Validation.PositiveFinite(Ridge, nameof(Ridge), "ridge");

        if (!(RidgeDecay > 0 && RidgeDecay <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(RidgeDecay), RidgeDecay, "The ridge decay must lie in (0, 1].");
        }

        Validation.NonNegativeFinite(RidgeDecayBelow, nameof(RidgeDecayBelow), "held-out error below which the ridge decays");
        Validation.PositiveFinite(MinimumRidge, nameof(MinimumRidge), "minimum ridge");
        Validation.NonNegativeFinite(RelativeTolerance, nameof(RelativeTolerance), "relative tolerance");
        Validation.NonNegativeFinite(TargetHeldOutMse, nameof(TargetHeldOutMse), "target held-out error");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIterations, 1, nameof(MaxIterations));
        if (!(HeldOutFraction >= 0 && HeldOutFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(HeldOutFraction), HeldOutFraction, "The held-out fraction must lie in [0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Patience, 1, nameof(Patience));
        if (!(MinimumRelativeImprovement >= 0 && MinimumRelativeImprovement < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumRelativeImprovement), MinimumRelativeImprovement, "The minimum relative improvement must lie in [0, 1).");
        }
    }
}
