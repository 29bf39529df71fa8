using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Kernels;

/// <summary>
/// The generalized Laplace family k_M(x, z) = exp(−‖x − z‖_M^q / L^q), 0 &lt; q ≤ 2: q = 1 is the
/// Laplace kernel, q = 2 is a Gaussian of bandwidth L/√2.
/// </summary>
/// <remarks>
/// With s = ‖x − z‖²_M: k = exp(−(s/L²)^{q/2}) and ∂k/∂s = −(q/2)·k·(s/L²)^{q/2}/s. For q &lt; 2 the
/// derivative is infinite at s = 0 and is taken as 0 there (self-terms omitted).
/// </remarks>
/// <param name="Bandwidth">The bandwidth L &gt; 0.</param>
/// <param name="Exponent">The exponent q, 0 &lt; q ≤ 2.</param>
public readonly record struct GeneralizedLaplaceKernel(double Bandwidth, double Exponent) : IKernelFunction, IFusedRadialProfile
{
    /// <inheritdoc />
    public KernelGeometry Geometry => KernelGeometry.Radial;

    /// <inheritdoc />
    public bool IsDifferentiableAtZero => Exponent >= 2;

    /// <inheritdoc />
    public string Name => $"GeneralizedLaplace(L={Bandwidth:G6}, q={Exponent:G6})";

    /// <inheritdoc />
    public double Value(double u) => Math.Exp(-Math.Pow(Math.Max(u, 0) / (Bandwidth * Bandwidth), Exponent / 2));

    /// <inheritdoc />
    public double Derivative(double u)
    {
        if (u <= 0)
        {
            return IsDifferentiableAtZero ? -1.0 / (Bandwidth * Bandwidth) : 0;
        }

        double t = Math.Pow(u / (Bandwidth * Bandwidth), Exponent / 2);
        return -0.5 * Exponent * Math.Exp(-t) * t / u;
    }

    /// <inheritdoc />
    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.Values(new Profile<T>(this), u, values);

    /// <inheritdoc />
    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.Derivatives(new Profile<T>(this), u, values, derivatives);

    /// <inheritdoc />
    /// <remarks>One pass: t = (s/L²)^{q/2} = e^{(q/2)·ln(s/L²)}, k = e^{−t}, ∂k/∂s = −(q/2)·k·t/s, t shared.</remarks>
    public void EvaluateWithDerivative<T>(ReadOnlySpan<T> u, Span<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T> => ProfileLoop.ValuesAndDerivatives(new Profile<T>(this), u, values, derivatives);

    /// <inheritdoc />
    void IFusedRadialProfile.EvaluateFromInnerProducts<T>(ReadOnlySpan<T> g, T xNorm, ReadOnlySpan<T> zNorms, Span<T> values, Span<T> derivatives)
        => ProfileLoop.FromInnerProducts(new Profile<T>(this), g, xNorm, zNorms, values, derivatives);

    /// <inheritdoc />
    public bool Accept(IKernelVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        visitor.Visit(in this);
        return true;
    }

    /// <inheritdoc />
    public void Validate()
    {
        KernelMath.RequirePositive(Bandwidth, nameof(Bandwidth), "generalized Laplace kernel bandwidth");
        if (!(Exponent > 0 && Exponent <= 2))
        {
            throw new ArgumentOutOfRangeException(nameof(Exponent), Exponent, "The generalized Laplace exponent q must satisfy 0 < q <= 2.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>
    /// t = e^{p·ln(s·i)} with i = 1/L² and p = q/2 (0 at s = 0), k = e^{−t}; ∂k/∂s = h·k·t/s with h = −q/2 for s &gt; 0,
    /// else the value at zero (−1/L² for q = 2, 0 otherwise).
    /// </summary>
    private readonly struct Profile<T>(GeneralizedLaplaceKernel kernel) : IProfileOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T i = KernelMath.Of<T>(1.0 / (kernel.Bandwidth * kernel.Bandwidth));
        private readonly T p = KernelMath.Of<T>(kernel.Exponent / 2);
        private readonly T h = KernelMath.Of<T>(-0.5 * kernel.Exponent);
        private readonly T atZero = KernelMath.Of<T>(kernel.IsDifferentiableAtZero ? -1.0 / (kernel.Bandwidth * kernel.Bandwidth) : 0.0);

        public T Value(T u) => T.Exp(-Power(u));

        public T Value(T u, out T derivative)
        {
            T t = Power(u);
            T k = T.Exp(-t);
            derivative = u > T.Zero ? h * k * t / u : atZero;
            return k;
        }

        public T Derivative(T u, T value) => u > T.Zero ? h * value * Power(u) / u : atZero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Value(Vector256<T> u) => SimdMath.Exp(-Power(u));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Value(Vector256<T> u, out Vector256<T> derivative)
        {
            var t = Power(u);
            var k = SimdMath.Exp(-t);
            derivative = Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<T>.Zero), h * k * t / u, Vector256.Create(atZero));
            return k;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<T> Derivative(Vector256<T> u, Vector256<T> value)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<T>.Zero), h * value * Power(u) / u, Vector256.Create(atZero));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Value(Vector512<T> u) => SimdMath.Exp(-Power(u));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Value(Vector512<T> u, out Vector512<T> derivative)
        {
            var t = Power(u);
            var k = SimdMath.Exp(-t);
            derivative = Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<T>.Zero), h * k * t / u, Vector512.Create(atZero));
            return k;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Derivative(Vector512<T> u, Vector512<T> value)
            => Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<T>.Zero), h * value * Power(u) / u, Vector512.Create(atZero));

        private T Power(T u) => T.Exp(p * T.Log(u * i));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<T> Power(Vector256<T> u) => SimdMath.Exp(SimdMath.Log(u * i) * p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector512<T> Power(Vector512<T> u) => SimdMath.Exp(SimdMath.Log(u * i) * p);
    }
}
