using System.Numerics;

namespace FeatureLearning.Kernels;

/// <summary>
/// A kernel as a scalar profile of one statistic u of the pair (x, z) — the squared Mahalanobis distance
/// for <see cref="KernelGeometry.Radial"/> kernels, the Mahalanobis inner product for
/// <see cref="KernelGeometry.DotProduct"/> kernels — with the derivative ∂k/∂u that the AGOP needs.
/// </summary>
/// <remarks>
/// Implementations are small immutable value types (<see cref="LaplaceKernel"/>, <see cref="GaussianKernel"/>,
/// <see cref="GeneralizedLaplaceKernel"/>, <see cref="PolynomialKernel"/>); a new kernel is a new type, not a
/// new code path. The span methods are the hot path: backends call them on blocks of a kernel matrix.
/// A kernel struct that implements <see cref="Accept"/> as <c>visitor.Visit(in this); return true;</c> can be compiled
/// into device code (the ILGPU backend does); any other kernel is evaluated through its span methods.
/// </remarks>
public interface IKernelFunction
{
    /// <summary>Which statistic the kernel is a function of.</summary>
    KernelGeometry Geometry { get; }

    /// <summary>
    /// Whether ∂k/∂u is finite at u = 0 for a radial kernel (false for Laplace: its derivative is taken as 0
    /// there, which omits the self-terms from gradients and the AGOP). Always true for dot-product kernels.
    /// </summary>
    bool IsDifferentiableAtZero { get; }

    /// <summary>A short description with the parameters, e.g. <c>Laplace(L=10)</c>.</summary>
    string Name { get; }

    /// <summary>The kernel value k(u).</summary>
    /// <param name="u">Squared distance (radial) or inner product (dot-product).</param>
    /// <returns>k(u).</returns>
    double Value(double u);

    /// <summary>The derivative ∂k/∂u; for a radial kernel not differentiable at 0, 0 at u = 0.</summary>
    /// <param name="u">Squared distance (radial) or inner product (dot-product).</param>
    /// <returns>∂k/∂u.</returns>
    double Derivative(double u);

    /// <summary>Evaluates k on a span, element by element (SIMD). <paramref name="u"/> and <paramref name="values"/> may be the same span.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="u">Statistics; for radial kernels already clamped to ≥ 0.</param>
    /// <param name="values">Destination, same length.</param>
    void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Evaluates ∂k/∂u on a span given the statistics and the kernel values already computed from them.
    /// <paramref name="derivatives"/> may alias <paramref name="u"/> but not <paramref name="values"/>.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="u">Statistics (≥ 0 for radial kernels).</param>
    /// <param name="values">k(u) for the same elements.</param>
    /// <param name="derivatives">Destination for ∂k/∂u.</param>
    void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Evaluates k and ∂k/∂u on a span together, which lets a kernel share the work of the two (the square root of a
    /// Laplace kernel, the power of a generalized Laplace kernel) and read the statistics once. The default calls
    /// <see cref="Evaluate{T}"/> and then <see cref="EvaluateDerivative{T}"/>; the library's radial kernels do it in one
    /// SIMD pass. <paramref name="derivatives"/> may be the same span as <paramref name="u"/>; <paramref name="values"/>
    /// must not overlap either.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="u">Statistics; for radial kernels already clamped to ≥ 0.</param>
    /// <param name="values">Destination for k(u), same length.</param>
    /// <param name="derivatives">Destination for ∂k/∂u, same length.</param>
    void EvaluateWithDerivative<T>(ReadOnlySpan<T> u, Span<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Evaluate(u, values);
        EvaluateDerivative(u, values, derivatives);
    }

    /// <summary>Checks the parameters and throws <see cref="ArgumentException"/> naming a bad one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range (e.g. non-positive bandwidth).</exception>
    void Validate();

    /// <summary>
    /// Calls <see cref="IKernelVisitor.Visit{TKernel}"/> with this kernel as its own struct type, so that an operation can
    /// be specialized for the kernel without reflection. The library's kernel structs implement it; the default (for
    /// classes and for user kernels that do not) does nothing and returns <see langword="false"/>, and the caller takes
    /// its general path.
    /// </summary>
    /// <param name="visitor">The operation.</param>
    /// <returns>Whether <paramref name="visitor"/> was called.</returns>
    bool Accept(IKernelVisitor visitor) => false;
}
