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

    /// <summary>The held-out error under which the ridge is lowered.</summary>
    public double RidgeDecayBelow { get; init; } = 1e-2;

    /// <summary>The smallest ridge the schedule goes down to.</summary>
    public double MinimumRidge { get; init; } = 1e-6;

    /// <summary>Maximum number of iterations.</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Fraction of the observed entries held out to measure the error and stop early (0 disables).</summary>
    public double HeldOutFraction { get; init; } = 0.05;

    /// <summary>Stop after this many iterations without a better held-out error (the best iterate is returned).</summary>
    public int Patience { get; init; } = 50;

    /// <summary>Stop once the held-out error is below this.</summary>
    public double TargetHeldOutMse { get; init; }

    /// <summary>Seed of the held-out split.</summary>
    public int Seed { get; init; }

    /// <summary>The compute backend for the d × d products; null for <see cref="ComputeBackends.Default"/>.</summary>
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

        ArgumentOutOfRangeException.ThrowIfLessThan(Iterations, 1, nameof(Iterations));
        if (!(HeldOutFraction >= 0 && HeldOutFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(HeldOutFraction), HeldOutFraction, "The held-out fraction must lie in [0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Patience, 1, nameof(Patience));
    }
}
