using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Networks;

/// <summary>A forward pass with its intermediate values, from <see cref="FullyConnectedNetwork{T}.Forward"/>.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
/// <param name="Output">f(X), n × c (equal to the last pre-activation z_L).</param>
/// <param name="PreActivations">z_l = a_l·h_l·W_lᵀ + c_l·1·b_lᵀ for l = 0 … L, each n × fan_out(l).</param>
/// <param name="Activations">The layer inputs h_l = φ(z_(l−1)) for l = 1 … L (entry l − 1), each n × fan_in(l).</param>
public sealed record NetworkForwardPass<T>(Matrix<T> Output, IReadOnlyList<Matrix<T>> PreActivations, IReadOnlyList<Matrix<T>> Activations)
    where T : struct, IEquatable<T>, IFormattable;
