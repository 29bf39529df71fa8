namespace FeatureLearning.Diagnostics;

/// <summary>Options of <see cref="NeuralFeatureAnsatz.Measure{T}"/> and <see cref="NeuralFeatureAnsatz.CompareRfm{T}"/>.</summary>
public sealed record NfaOptions
{
    /// <summary>
    /// Whether the AGOP subtracts each output's mean gradient first (the centred AGOP, the covariance of the gradients).
    /// Default <see langword="false"/>.
    /// </summary>
    public bool CentreGradients { get; init; }

    /// <summary>
    /// s, the power of the AGOP that the feature matrix is compared with (positive, finite): the correlation is the one of
    /// WᵀW with AGOP^s. Default ½.
    /// </summary>
    public double Power { get; init; } = 0.5;

    /// <summary>The number of samples per reverse pass when the layer AGOP is accumulated (≥ 1); <see langword="null"/> for all at once (the default).</summary>
    public int? BatchSize { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the bad property.</summary>
    public void Validate()
    {
        Validation.PositiveFinite(Power, nameof(Power), "AGOP power");
        if (BatchSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be at least 1 (or null for all samples at once).");
        }
    }
}
