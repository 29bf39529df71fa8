namespace FeatureLearning.Diagnostics;

/// <summary>Options of <see cref="TrainingMonitor{T}"/> and <see cref="TrainingMonitor.Train{T}"/>: what to record and how often.</summary>
public sealed record TrainingMonitorOptions
{
    /// <summary>k (≥ 1): a record at steps 0, k, 2k, … and after the last step. Default 10.</summary>
    public int Interval { get; init; } = 10;

    /// <summary>Whether to record the sharpness (the top loss-Hessian eigenvalue, by Lanczos). Default <see langword="true"/>.</summary>
    public bool ComputeSharpness { get; init; } = true;

    /// <summary>
    /// Whether to record the tangent-kernel quantities (top eigenvalue, condition number and movement of the dense empirical
    /// NTK on the first <see cref="KernelSamples"/> samples). Default <see langword="true"/>.
    /// </summary>
    public bool ComputeTangentKernel { get; init; } = true;

    /// <summary>Whether to record the effective and stable ranks of W_l − W_l(0) for every layer. Default <see langword="true"/>.</summary>
    public bool ComputeEffectiveRanks { get; init; } = true;

    /// <summary>
    /// The number of leading training samples on which the (dense) tangent kernel is formed (≥ 1, at most n);
    /// <see langword="null"/> for all n. The kernel is (samples·c)² entries and its eigendecomposition costs (samples·c)³.
    /// The leading rows are taken as they are: shuffle data sorted by class first, or the kernel sees one class.
    /// </summary>
    public int? KernelSamples { get; init; }

    /// <summary>The samples per Hessian-vector product of the sharpness (<see langword="null"/> for all n).</summary>
    public int? HessianBatchSize { get; init; }

    /// <summary>
    /// Tolerance, iteration cap and seed of the sharpness's Lanczos run (its count, end and vectors are set by the monitor:
    /// one eigenvalue, the largest, no vectors); <see langword="null"/> for the defaults.
    /// </summary>
    public LanczosOptions? Lanczos { get; init; }

    /// <summary>The tolerances of the catapult detection over the records; <see langword="null"/> for the defaults.</summary>
    public CatapultDetectorOptions? Catapult { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the bad property.</summary>
    public void Validate()
    {
        if (Interval < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Interval), Interval, "The interval must be at least 1.");
        }

        if (KernelSamples is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(KernelSamples), KernelSamples, "The kernel samples must be at least 1 (or null for all).");
        }

        if (HessianBatchSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(HessianBatchSize), HessianBatchSize, "The Hessian batch size must be at least 1 (or null for all).");
        }

        Catapult?.Validate();
    }
}
