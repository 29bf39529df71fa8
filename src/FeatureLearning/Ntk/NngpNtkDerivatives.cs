namespace FeatureLearning.Ntk;

/// <summary>The NNGP and NTK of one pair of inputs with their partial derivatives in the three input statistics.</summary>
/// <param name="Nngp">The NNGP kernel value.</param>
/// <param name="Ntk">The NTK value.</param>
/// <param name="NngpPartials">∂NNGP/∂(xᵀMx), ∂NNGP/∂(zᵀMz), ∂NNGP/∂(xᵀMz).</param>
/// <param name="NtkPartials">∂NTK/∂(xᵀMx), ∂NTK/∂(zᵀMz), ∂NTK/∂(xᵀMz).</param>
public readonly record struct NngpNtkDerivatives(double Nngp, double Ntk, StatisticPartials NngpPartials, StatisticPartials NtkPartials);
