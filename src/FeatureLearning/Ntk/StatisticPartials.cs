namespace FeatureLearning.Ntk;

/// <summary>
/// The partial derivatives of a kernel value with respect to its three input statistics xᵀMx, zᵀMz and xᵀMz (with
/// M = I/d for the plain kernel), each taken with the other two held fixed. The gradient in x of a kernel
/// k(xᵀMx, zᵀMz, xᵀMz) is ∇ₓk = <see cref="Xz"/>·Mz + 2·<see cref="Xx"/>·Mx.
/// </summary>
/// <param name="Xx">∂k/∂(xᵀMx).</param>
/// <param name="Zz">∂k/∂(zᵀMz).</param>
/// <param name="Xz">∂k/∂(xᵀMz).</param>
public readonly record struct StatisticPartials(double Xx, double Zz, double Xz);
