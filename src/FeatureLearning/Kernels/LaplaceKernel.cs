using System.Numerics;
using System.Numerics.Tensors;

namespace FeatureLearning.Kernels;

/// <summary>
/// The Laplace kernel k_M(x, z) = exp(−‖x − z‖_M / L) with bandwidth L, the kernel of the RFM papers.
/// </summary>
/// <remarks>
/// Not differentiable at x = z: ∂k/∂s = −k / (2L√s) is taken as 0 at s = 0, so self-terms are omitted
/// from gradients and the AGOP, as in the reference implementation.
/// </remarks>
/// <param name="Bandwidth">The bandwidth L &gt; 0.</param>
public readonly record struct LaplaceKernel(double Bandwidth) : IKernelFunction
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
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, values, nameof(values));
        TensorPrimitives.Sqrt(u, values);
        KernelMath.ExpScaled(values, KernelMath.Of<T>(-1.0 / Bandwidth), values);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // ∂k/∂s = −k / (2 L √s)
        KernelMath.CheckLengths(u, derivatives, nameof(derivatives));
        T scale = KernelMath.Of<T>(-0.5 / Bandwidth);
        for (int i = 0; i < u.Length; i++)
        {
            T s = u[i];
            derivatives[i] = s > T.Zero ? scale * values[i] / T.Sqrt(s) : T.Zero;
        }
    }

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
}
