using FeatureLearning.Compute;

namespace FeatureLearning.LinearRfm;

/// <summary>Options of <see cref="MatrixCompletion"/>.</summary>
public sealed record MatrixCompletionOptions
{
    /// <summary>The exponent α of M = (WᵀW/n)^α: 1 (the reference default, P = M² by one GEMM), ½ (P = WᵀW/n directly), or another positive value (through an eigendecomposition of the d × d matrix).</summary>
    public double Alpha { get; init; } = 1.0;

    /// <summary>The ridge λ &gt; 0 of the per-row solves (P[I,I] + λI)a = y.</summary>
    public double Ridge { get; init; } = 0.05;

    /// <summary>Multiply the ridge by this factor (≤ 1) whenever the held-out error falls below <see cref="RidgeDecayBelow"/>; 1 keeps it constant (the default).</summary>
    public double RidgeDecay { get; init; } = 1.0;

    /// <summary>The held-out error under which the ridge is lowered (finite, ≥ 0; 0 never lowers it).</summary>
    public double RidgeDecayBelow { get; init; } = 1e-2;

    /// <summary>The smallest ridge the schedule goes down to (positive, finite, and not above <see cref="Ridge"/> when <see cref="RidgeDecay"/> &lt; 1).</summary>
    public double MinimumRidge { get; init; } = 1e-6;

    /// <summary>The cap on iterations: the fit stops earlier on <see cref="Patience"/> or <see cref="TargetHeldOutMse"/>.</summary>
    public int MaxIterations { get; init; } = 1000;

    /// <summary>Fraction of the observed entries held out to measure the error and stop early (0 disables).</summary>
    public double HeldOutFraction { get; init; } = 0.05;

    /// <summary>Stop after this many iterations without a better held-out error (the best iterate is returned).</summary>
    public int Patience { get; init; } = 50;

    /// <summary>
    /// The relative improvement ε ∈ [0, 1) of the plateau test: a plateau is reached when the best held-out error of the last
    /// <see cref="Patience"/> iterations is not below (1 − ε) times the best before them. 0 is the plain patience rule.
    /// </summary>
    public double MinimumRelativeImprovement { get; init; } = 0.01;

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
        if (RidgeDecay < 1 && MinimumRidge > Ridge)
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumRidge), MinimumRidge, $"The minimum ridge exceeds the ridge ({Ridge}): the decay schedule would raise the ridge instead of lowering it.");
        }

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
