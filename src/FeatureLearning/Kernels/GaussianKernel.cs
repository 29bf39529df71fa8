using System.Numerics;
using System.Numerics.Tensors;

namespace FeatureLearning.Kernels;

/// <summary>
/// The Gaussian kernel k_M(x, z) = exp(−‖x − z‖²_M / (2L²)) with bandwidth L.
/// </summary>
/// <param name="Bandwidth">The bandwidth L &gt; 0.</param>
public readonly record struct GaussianKernel(double Bandwidth) : IKernelFunction
{
    /// <inheritdoc />
    public KernelGeometry Geometry => KernelGeometry.Radial;

    /// <inheritdoc />
    public bool IsDifferentiableAtZero => true;

    /// <inheritdoc />
    public string Name => $"Gaussian(L={Bandwidth:G6})";

    private double Scale => -1.0 / (2.0 * Bandwidth * Bandwidth);

    /// <inheritdoc />
    public double Value(double u) => Math.Exp(Scale * u);

    /// <inheritdoc />
    public double Derivative(double u) => Scale * Math.Exp(Scale * u);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, values, nameof(values));
        KernelMath.ExpScaled(u, KernelMath.Of<T>(Scale), values);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, derivatives, nameof(derivatives));
        TensorPrimitives.Multiply(values, KernelMath.Of<T>(Scale), derivatives);
    }

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
}
