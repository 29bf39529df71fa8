using System.Numerics;
using System.Numerics.Tensors;

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
public readonly record struct GeneralizedLaplaceKernel(double Bandwidth, double Exponent) : IKernelFunction
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
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, values, nameof(values));
        PowerTerm(u, values);
        TensorPrimitives.Negate(values, values);
        TensorPrimitives.Exp(values, values);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, derivatives, nameof(derivatives));
        T half = KernelMath.Of<T>(-0.5 * Exponent);
        T atZero = KernelMath.Of<T>(IsDifferentiableAtZero ? -1.0 / (Bandwidth * Bandwidth) : 0.0);
        T invL2 = KernelMath.Of<T>(1.0 / (Bandwidth * Bandwidth));
        T q2 = KernelMath.Of<T>(Exponent / 2);
        for (int i = 0; i < u.Length; i++)
        {
            T s = u[i];
            derivatives[i] = s > T.Zero ? half * values[i] * T.Pow(s * invL2, q2) / s : atZero;
        }
    }

    /// <summary>values = (u / L²)^{q/2}, through exp(q/2 · log(u/L²)), which gives 0 at u = 0.</summary>
    private void PowerTerm<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Multiply(u, KernelMath.Of<T>(1.0 / (Bandwidth * Bandwidth)), values);
        TensorPrimitives.Log(values, values);
        TensorPrimitives.Multiply(values, KernelMath.Of<T>(Exponent / 2), values);
        TensorPrimitives.Exp(values, values);
    }

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
}
