using FeatureLearning.Compute;

namespace FeatureLearning.LinearRfm;

/// <summary>Options of <see cref="SparseRegression"/>.</summary>
public sealed record SparseRegressionOptions
{
    /// <summary>The exponent α of M = diag(|w|^{2α}) (default ½, which corresponds to IRLS-p with p = 0).</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>The ridge λ &gt; 0 of each solve.</summary>
    public double Ridge { get; init; } = 1e-10;

    /// <summary>The cap on iterations: the fit stops earlier once the relative change of w falls below <see cref="Tolerance"/>.</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>Stop when the relative change of w falls below this.</summary>
    public double Tolerance { get; init; } = 1e-12;

    /// <summary>The compute backend; null for <see cref="ComputeBackends.Default"/>.</summary>
    public IComputeBackend? Backend { get; init; }

    /// <summary>Checks the options, throwing <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        Validation.PositiveFinite(Alpha, nameof(Alpha), "exponent α");
        Validation.PositiveFinite(Ridge, nameof(Ridge), "ridge");

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIterations, 1, nameof(MaxIterations));
        if (!(Tolerance >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The tolerance must be non-negative.");
        }
    }
}
