using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Kernels;

/// <summary>
/// The Gaussian kernel k_M(x, z) = exp(−‖x − z‖²_M / (2L²)) with bandwidth L.
/// </summary>
/// <param name="Bandwidth">The bandwidth L &gt; 0.</param>
public readonly record struct GaussianKernel(double Bandwidth) : IKernelFunction, IFusedRadialProfile
{
    /// <inheritdoc />
    public KernelGeometry Geometry => KernelGeometry.Radial;

    /// <inheritdoc />
    public bool IsDifferentiableAtZero => true;

    /// <inheritdoc />
    public string Name => $"Gaussian(L={Bandwidth:G6})";

    /// <summary>c = −1/(2L²): k = e^(c·u).</summary>
    internal double Scale => -1.0 / (2.0 * Bandwidth * Bandwidth);

    /// <inheritdoc />
    public double Value(double u) => Math.Exp(Scale * u);

    /// <inheritdoc />
    public double Derivative(double u) => Scale * Math.Exp(Scale * u);

    /// <inheritdoc />
    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.Values(new Profile<T>(Scale), u, values);

    /// <inheritdoc />
    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.Derivatives(new Profile<T>(Scale), u, values, derivatives);

    /// <inheritdoc />
    /// <remarks>One pass: k = e^(cs), ∂k/∂s = c·k with c = −1/(2L²).</remarks>
    public void EvaluateWithDerivative<T>(ReadOnlySpan<T> u, Span<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.ValuesAndDerivatives(new Profile<T>(Scale), u, values, derivatives);

    /// <inheritdoc />
    void IFusedRadialProfile.EvaluateFromInnerProducts<T>(ReadOnlySpan<T> g, T xNorm, ReadOnlySpan<T> zNorms, Span<T> values, Span<T> derivatives)
        => ProfileLoop.FromInnerProducts(new Profile<T>(Scale), g, xNorm, zNorms, values, derivatives);

    /// <inheritdoc />
    public bool Accept(IKernelVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        visitor.Visit(in this);
        return true;
    }

    /// <inheritdoc />
    public void Validate() => KernelMath.RequirePositive(Bandwidth, nameof(Bandwidth), "Gaussian kernel bandwidth");

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>k = e^(cs), ∂k/∂s = c·k.</summary>
    private readonly struct Profile<T>(double scale) : IProfileOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T c = KernelMath.Of<T>(scale);

        public T Value(T u) => T.Exp(c * u);

        public T Value(T u, out T derivative)
        {
            T k = T.Exp(c * u);
            derivative = c * k;
            return k;
        }

        public T Derivative(T u, T value) => c * value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Value(Vector256<T> u) => SimdMath.Exp(u * c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Value(Vector256<T> u, out Vector256<T> derivative)
        {
            var k = SimdMath.Exp(u * c);
            derivative = k * c;
            return k;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Derivative(Vector256<T> u, Vector256<T> value) => value * c;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Value(Vector512<T> u) => SimdMath.Exp(u * c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Value(Vector512<T> u, out Vector512<T> derivative)
        {
            var k = SimdMath.Exp(u * c);
            derivative = k * c;
            return k;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Derivative(Vector512<T> u, Vector512<T> value) => value * c;
    }
}
