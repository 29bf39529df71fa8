using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Networks;

/// <summary>A loss and its exact gradient in the parameters, from <see cref="FullyConnectedNetwork{T}.LossGradient"/>.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
/// <param name="Loss">The loss L (evaluated in double precision from the outputs).</param>
/// <param name="Gradient">∂L/∂w, P entries in the parameter layout of <see cref="FullyConnectedNetwork{T}"/>.</param>
public sealed record NetworkLossGradient<T>(double Loss, Vector<T> Gradient)
    where T : struct, IEquatable<T>, IFormattable;
