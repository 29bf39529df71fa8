namespace FeatureLearning.Ntk;

/// <summary>The infinite-width NNGP kernel Σ(x, z) and neural tangent kernel Θ(x, z) of one pair of inputs.</summary>
/// <param name="Nngp">The NNGP kernel: the covariance of the network's outputs at initialisation.</param>
/// <param name="Ntk">The neural tangent kernel: the limit of J(x)J(z)ᵀ.</param>
public readonly record struct NngpNtkValue(double Nngp, double Ntk);
