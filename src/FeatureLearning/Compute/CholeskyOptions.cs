namespace FeatureLearning.Compute;

/// <summary>
/// How a Cholesky factorization reacts to a matrix that is not numerically positive definite: the
/// documented jitter retry shared by every backend.
/// </summary>
/// <remarks>
/// <para>The first attempt factors the matrix as given. If a pivot is not positive (or not finite), the
/// lower triangle is restored from the untouched upper triangle and the saved diagonal, a jitter
/// <c>δ = InitialRelativeJitter · mean(diag A)</c> is added to the diagonal and the factorization is tried
/// again; each further retry multiplies δ by <see cref="JitterGrowth"/>. After <see cref="MaxRetries"/>
/// failed retries a <see cref="MatrixNotPositiveDefiniteException"/> is thrown. The jitter that
/// succeeded is returned in <see cref="CholeskyReport.Jitter"/>: the factor is that of A + δI.</para>
/// <para>Restoring needs no second n × n copy: the factorization only writes the lower triangle.</para>
/// </remarks>
public sealed record CholeskyOptions
{
    /// <summary>The default policy: retry up to 8 times starting at 1e-10 (double) or 1e-6 (float) relative jitter.</summary>
    public static CholeskyOptions Default { get; } = new();

    /// <summary>A policy that never adds jitter: a failed factorization throws at once.</summary>
    public static CholeskyOptions NoJitter { get; } = new() { MaxRetries = 0 };

    /// <summary>
    /// First jitter relative to the mean of the diagonal; <see langword="null"/> (the default) picks 1e-10 in
    /// double precision and 1e-6 in single precision.
    /// </summary>
    public double? InitialRelativeJitter { get; init; }

    /// <summary>Factor by which the jitter grows at each retry (default 10, must be &gt; 1).</summary>
    public double JitterGrowth { get; init; } = 10.0;

    /// <summary>How many jittered retries are made after the first failure (default 8; 0 disables jitter).</summary>
    public int MaxRetries { get; init; } = 8;

    /// <summary>
    /// Whether a double-precision ridge solve of an estimator (kernel ridge, RFM, ConvRFM) may factor in single precision and
    /// refine the solution to double accuracy (see <see cref="Compute.MixedPrecision"/>); default <see cref="MixedPrecision.Auto"/>.
    /// <see cref="IComputeBackend.CholeskyFactor{T}"/> itself always factors in the precision of its buffer.
    /// </summary>
    public MixedPrecision MixedPrecision { get; init; } = MixedPrecision.Auto;

    /// <summary>The smallest order n at which <see cref="MixedPrecision.Auto"/> takes the mixed-precision solve (default 4,096; ≥ 1).</summary>
    public int MixedPrecisionMinimumOrder { get; init; } = 4096;

    /// <summary>Checks the options and throws <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range.</exception>
    public void Validate()
    {
        if (InitialRelativeJitter is { } j && (!double.IsFinite(j) || j <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(InitialRelativeJitter), j, "The initial relative jitter must be positive and finite.");
        }

        if (!double.IsFinite(JitterGrowth) || JitterGrowth <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(JitterGrowth), JitterGrowth, "The jitter growth factor must be finite and greater than 1.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries);
        ArgumentOutOfRangeException.ThrowIfLessThan(MixedPrecisionMinimumOrder, 1, nameof(MixedPrecisionMinimumOrder));
        if (!Enum.IsDefined(MixedPrecision))
        {
            throw new ArgumentOutOfRangeException(nameof(MixedPrecision), MixedPrecision, "Unknown mixed-precision setting.");
        }
    }

    internal double InitialJitterFor<T>() => InitialRelativeJitter ?? (typeof(T) == typeof(float) ? 1e-6 : 1e-10);
}
