using System.Numerics;

namespace FeatureLearning.Kernels;

/// <summary>
/// A kernel of <see cref="KernelGeometry.InnerProductAndNorms"/> geometry: k_M(x, z) = κ(u, a, b) with u = xᵀMz,
/// a = xᵀMx and b = zᵀMz, symmetric in the sense κ(u, a, b) = κ(u, b, a). The backends compute u with one GEMM and the
/// norms as row dots, then call <see cref="EvaluateRow{T}"/> once per row of the kernel matrix.
/// </summary>
/// <remarks>
/// The single-statistic members of <see cref="IKernelFunction"/> (<see cref="IKernelFunction.Value"/>,
/// <see cref="IKernelFunction.Evaluate{T}"/> and their derivatives) are the kernel on the unit sphere of M, κ(u, 1, 1),
/// and ∂κ/∂u there: what the kernel is on data normalised to xᵀMx = 1.
/// </remarks>
public interface INormDependentKernel : IKernelFunction
{
    /// <summary>κ(u, a, b).</summary>
    /// <param name="u">xᵀMz.</param>
    /// <param name="a">xᵀMx ≥ 0.</param>
    /// <param name="b">zᵀMz ≥ 0.</param>
    /// <returns>The kernel value.</returns>
    double Value(double u, double a, double b);

    /// <summary>The partial derivatives ∂κ/∂u and ∂κ/∂a at (u, a, b) (∂κ/∂b is ∂κ/∂a at (u, b, a)).</summary>
    /// <param name="u">xᵀMz.</param>
    /// <param name="a">xᵀMx ≥ 0.</param>
    /// <param name="b">zᵀMz ≥ 0.</param>
    /// <returns>(∂κ/∂u, ∂κ/∂a).</returns>
    (double DU, double DA) Derivatives(double u, double a, double b);

    /// <summary>
    /// One row of a kernel matrix: values_j = κ(u_j, a, b_j). <paramref name="values"/> may be the same span as
    /// <paramref name="u"/>.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="u">The inner products x_iᵀMz_j of the row.</param>
    /// <param name="a">x_iᵀMx_i.</param>
    /// <param name="b">z_jᵀMz_j, same length as <paramref name="u"/>.</param>
    /// <param name="values">Destination, same length.</param>
    void EvaluateRow<T>(ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// The derivatives of one row: du_j = ∂κ/∂u and da_j = ∂κ/∂a at (u_j, a, b_j). Neither destination may alias
    /// <paramref name="u"/> or <paramref name="b"/>.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="u">The inner products of the row.</param>
    /// <param name="a">x_iᵀMx_i.</param>
    /// <param name="b">z_jᵀMz_j.</param>
    /// <param name="du">Destination for ∂κ/∂u.</param>
    /// <param name="da">Destination for ∂κ/∂a.</param>
    void EvaluateRowDerivatives<T>(ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> du, Span<T> da)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
