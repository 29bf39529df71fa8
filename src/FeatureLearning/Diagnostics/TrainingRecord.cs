namespace FeatureLearning.Diagnostics;

/// <summary>
/// One record of a <see cref="TrainingMonitor{T}"/>: the network after <see cref="Step"/> updates. Quantities that were not
/// asked for (<see cref="TrainingMonitorOptions"/>) are <see langword="null"/>.
/// </summary>
public sealed record TrainingRecord
{
    /// <summary>The number of updates taken.</summary>
    public required int Step { get; init; }

    /// <summary>The training loss on all n samples (the loss of the training options, in its normalisation).</summary>
    public required double Loss { get; init; }

    /// <summary>
    /// 2/η, the edge of stability of plain GD on a quadratic with curvature <see cref="Sharpness"/>. With heavy-ball
    /// momentum μ the edge is (2 + 2μ)/η instead, and with weight decay λ the curvature that matters is Sharpness + λ
    /// (the sharpness here is that of the loss without the decay term): compare accordingly.
    /// </summary>
    public required double TwoOverEta { get; init; }

    /// <summary>The sharpness λ_max(∇²L), the largest (algebraic) eigenvalue of the loss Hessian over all n samples, by Lanczos.</summary>
    public double? Sharpness { get; init; }

    /// <summary>The Hessian-vector products the sharpness took.</summary>
    public int? SharpnessApplications { get; init; }

    /// <summary>Whether the sharpness's Lanczos run met its tolerance.</summary>
    public bool? SharpnessConverged { get; init; }

    /// <summary>
    /// The top eigenvalue of Θ/m, Θ the empirical NTK on the m kernel samples (the loss's normalisation: for the MSE it is the
    /// top eigenvalue of the Gauss–Newton matrix JᵀJ/m, comparable with <see cref="Sharpness"/> and 2/η).
    /// </summary>
    public double? NtkTop { get; init; }

    /// <summary>The condition number λ_max/λ_min of Θ on the kernel samples (+∞ when λ_min ≤ 0).</summary>
    public double? NtkCondition { get; init; }

    /// <summary>The relative kernel movement ‖Θ_t − Θ_0‖_F / ‖Θ_0‖_F since the monitor's initial network, on the kernel samples.</summary>
    public double? KernelMovement { get; init; }

    /// <summary>Per layer l = 0 … L, the entropy effective rank (<see cref="EffectiveRank.Entropy{T}"/>) of W_l − W_l(0).</summary>
    public IReadOnlyList<double>? EffectiveRanks { get; init; }

    /// <summary>Per layer l = 0 … L, the stable rank (<see cref="EffectiveRank.Stable{T}"/>) of W_l − W_l(0).</summary>
    public IReadOnlyList<double>? StableRanks { get; init; }
}
