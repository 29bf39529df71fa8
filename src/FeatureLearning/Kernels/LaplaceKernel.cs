using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Kernels;

/// <summary>
/// The Laplace kernel k_M(x, z) = exp(−‖x − z‖_M / L) with bandwidth L, the kernel of the RFM papers.
/// </summary>
/// <remarks>
/// Not differentiable at x = z: ∂k/∂s = −k / (2L√s) is taken as 0 at s = 0, so self-terms are omitted
/// from gradients and the AGOP, as in the reference implementation.
/// </remarks>
/// <param name="Bandwidth">The bandwidth L &gt; 0.</param>
public readonly record struct LaplaceKernel(double Bandwidth) : IKernelFunction, IFusedRadialProfile
{
    /// <inheritdoc />
    public KernelGeometry Geometry => KernelGeometry.Radial;

    /// <inheritdoc />
    public bool IsDifferentiableAtZero => false;

    /// <inheritdoc />
    public string Name => $"Laplace(L={Bandwidth:G6})";

    /// <inheritdoc />
    public double Value(double u) => Math.Exp(-Math.Sqrt(Math.Max(u, 0)) / Bandwidth);

    /// <inheritdoc />
    public double Derivative(double u)
    {
        if (u <= 0)
        {
            return 0;
        }

        double r = Math.Sqrt(u);
        return -Math.Exp(-r / Bandwidth) / (2 * Bandwidth * r);
    }

    /// <inheritdoc />
    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.Values(new Profile<T>(Bandwidth), u, values);

    /// <inheritdoc />
    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.Derivatives(new Profile<T>(Bandwidth), u, values, derivatives);

    /// <inheritdoc />
    /// <remarks>One pass: r = √s, k = e^(−r/L), ∂k/∂s = −k/(2Lr) (0 at s = 0), the square root shared.</remarks>
    public void EvaluateWithDerivative<T>(ReadOnlySpan<T> u, Span<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.ValuesAndDerivatives(new Profile<T>(Bandwidth), u, values, derivatives);

    /// <inheritdoc />
    void IFusedRadialProfile.EvaluateFromInnerProducts<T>(ReadOnlySpan<T> g, T xNorm, ReadOnlySpan<T> zNorms, Span<T> values, Span<T> derivatives)
        => ProfileLoop.FromInnerProducts(new Profile<T>(Bandwidth), g, xNorm, zNorms, values, derivatives);

    /// <inheritdoc />
    public bool Accept(IKernelVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        visitor.Visit(in this);
        return true;
    }

    /// <inheritdoc />
    public void Validate() => KernelMath.RequirePositive(Bandwidth, nameof(Bandwidth), "Laplace kernel bandwidth");

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>k = e^(c√s) with c = −1/L; ∂k/∂s = h·k/√s with h = −1/(2L) for s &gt; 0, else 0.</summary>
    private readonly struct Profile<T>(double bandwidth) : IProfileOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T c = KernelMath.Of<T>(-1.0 / bandwidth);
        private readonly T h = KernelMath.Of<T>(-0.5 / bandwidth);

        public T Value(T u) => T.Exp(T.Sqrt(u) * c);

        public T Value(T u, out T derivative)
        {
            T r = T.Sqrt(u);
            T k = T.Exp(r * c);
            derivative = u > T.Zero ? h * k / r : T.Zero;
            return k;
        }

        public T Derivative(T u, T value) => u > T.Zero ? h * value / T.Sqrt(u) : T.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Value(Vector256<T> u) => SimdMath.Exp(Vector256.Sqrt(u) * c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Value(Vector256<T> u, out Vector256<T> derivative)
        {
            if (!SimdMath.EstimatesInverseSqrt256<T>())
            {
                var root = Vector256.Sqrt(u);
                var value = SimdMath.Exp(root * c);
                derivative = Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<T>.Zero), h * value / root, Vector256<T>.Zero);
                return value;
            }

            // √u = u·(1/√u) and ∂k/∂u = h·k·(1/√u) from one inverse square root, neither a square root nor a division. The
            // estimate gives NaN at u = 0 and u = ∞: there √u = u, and 1/√u = 0 at ∞ (the derivative −0 as h·k/√u gives; at
            // u = 0 the derivative is 0 by definition). NaN and u &lt; 0 give NaN as √u does.
            var infinite = Vector256.Equals(u, Vector256.Create(T.PositiveInfinity));
            var inverse = Vector256.ConditionalSelect(infinite, Vector256<T>.Zero, SimdMath.InverseSqrt(u));
            var r = Vector256.ConditionalSelect(infinite | Vector256.Equals(u, Vector256<T>.Zero), u, u * inverse);
            var k = SimdMath.Exp(r * c);
            derivative = Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<T>.Zero), h * k * inverse, Vector256<T>.Zero);
            return k;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Derivative(Vector256<T> u, Vector256<T> value)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<T>.Zero), h * value / Vector256.Sqrt(u), Vector256<T>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Value(Vector512<T> u) => SimdMath.Exp(Vector512.Sqrt(u) * c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Value(Vector512<T> u, out Vector512<T> derivative)
        {
            if (!SimdMath.EstimatesInverseSqrt512<T>())
            {
                var root = Vector512.Sqrt(u);
                var value = SimdMath.Exp(root * c);
                derivative = Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<T>.Zero), h * value / root, Vector512<T>.Zero);
                return value;
            }

            // √u = u·(1/√u) and ∂k/∂u = h·k·(1/√u) from one inverse square root, neither a square root nor a division. The
            // estimate gives NaN at u = 0 and u = ∞: there √u = u, and 1/√u = 0 at ∞ (the derivative −0 as h·k/√u gives; at
            // u = 0 the derivative is 0 by definition). NaN and u &lt; 0 give NaN as √u does.
            var infinite = Vector512.Equals(u, Vector512.Create(T.PositiveInfinity));
            var inverse = Vector512.ConditionalSelect(infinite, Vector512<T>.Zero, SimdMath.InverseSqrt(u));
            var r = Vector512.ConditionalSelect(infinite | Vector512.Equals(u, Vector512<T>.Zero), u, u * inverse);
            var k = SimdMath.Exp(r * c);
            derivative = Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<T>.Zero), h * k * inverse, Vector512<T>.Zero);
            return k;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Derivative(Vector512<T> u, Vector512<T> value)
            => Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<T>.Zero), h * value / Vector512.Sqrt(u), Vector512<T>.Zero);
    }
}
