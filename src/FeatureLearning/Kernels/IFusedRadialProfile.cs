using System.Numerics;

namespace FeatureLearning.Kernels;

/// <summary>
/// A radial kernel of the library whose values (and derivatives) the CPU backend evaluates straight from a row of inner
/// products xᵀMz and the norms, in one pass (<see cref="ProfileLoop.FromInnerProducts{T, TOp}"/>), instead of storing the
/// squared distances first and reading them back. The CPU backend's kernel tiles call it by the kernel's concrete type, so a
/// struct kernel is not boxed.
/// </summary>
internal interface IFusedRadialProfile
{
    /// <summary>
    /// values_j = k(s_j) and, unless <paramref name="derivatives"/> is empty, derivatives_j = ∂k/∂s at s_j =
    /// <see cref="ProfileLoop.SquaredDistance{T}(T, T, T)"/>(g_j, <paramref name="xNorm"/>, zNorms_j); <paramref name="values"/>
    /// may be <paramref name="g"/>.
    /// </summary>
    void EvaluateFromInnerProducts<T>(ReadOnlySpan<T> g, T xNorm, ReadOnlySpan<T> zNorms, Span<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
