namespace FeatureLearning.Networks;

/// <summary>
/// Gradient descent for <see cref="FullyConnectedNetwork{T}.Train"/>: full-batch GD (no <see cref="BatchSize"/>) or minibatch SGD
/// (the samples reshuffled every epoch with <see cref="Seed"/>), with heavy-ball momentum and L2 weight decay:
/// g ← ∇L_batch(w) + λ·w, v ← μ·v + g, w ← w − η·v.
/// </summary>
public sealed record NetworkTrainingOptions
{
    /// <summary>The loss L (its normalisation is that of <see cref="NetworkLoss"/>: a mean over the batch). Default MSE.</summary>
    public NetworkLoss Loss { get; init; } = NetworkLoss.MeanSquaredError;

    /// <summary>η, the learning rate (positive, finite). Default 0.1.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>The number of passes over the data (≥ 1); for full-batch GD, the number of steps. Default 100.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>The minibatch size (≥ 1; at least n means full batch); <see langword="null"/> for full-batch GD (the default).</summary>
    public int? BatchSize { get; init; }

    /// <summary>μ, the heavy-ball momentum (in [0, 1)). Default 0.</summary>
    public double Momentum { get; init; }

    /// <summary>λ, the L2 weight decay added to the gradient (finite, ≥ 0). Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>The seed of the per-epoch shuffles of minibatch SGD. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the bad property.</summary>
    public void Validate()
    {
        Validation.DefinedEnum(Loss, nameof(Loss));
        Validation.PositiveFinite(LearningRate, nameof(LearningRate), "learning rate");
        if (Epochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "At least one epoch is needed.");
        }

        if (BatchSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be at least 1 (or null for full batch).");
        }

        if (!double.IsFinite(Momentum) || Momentum < 0 || Momentum >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "The momentum must be in [0, 1).");
        }

        Validation.NonNegativeFinite(WeightDecay, nameof(WeightDecay), "weight decay");
    }
}
