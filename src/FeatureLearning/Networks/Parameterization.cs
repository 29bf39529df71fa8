namespace FeatureLearning.Networks;

/// <summary>How a <see cref="FullyConnectedNetwork{T}"/> scales its weights: in the forward pass or at initialisation.</summary>
public enum Parameterization
{
    /// <summary>
    /// The NTK parameterisation: W ~ N(0, 1) and b ~ N(0, 1), and the layer computes (σ_w/√fan_in)·W·h + σ_b·b, so that
    /// the tangent kernel has a finite infinite-width limit.
    /// </summary>
    Ntk,

    /// <summary>The standard parameterisation: W ~ N(0, σ_w²/fan_in) and b ~ N(0, σ_b²), and the layer computes W·h + b.</summary>
    Standard,
}
