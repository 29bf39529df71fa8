using FeatureLearning.Kernels;

namespace FeatureLearning.Backends.Ilgpu.Tests;

/// <summary>
/// A kernel that is a class, wrapping a kernel struct: it keeps the default <see cref="IKernelFunction.Accept"/>, so ILGPU
/// cannot compile it for a device and the backend evaluates it on the host.
/// </summary>
/// <param name="inner">The kernel it evaluates.</param>
internal sealed class BoxedKernel(IKernelFunction inner) : IKernelFunction
{
    public KernelGeometry Geometry => inner.Geometry;

    public bool IsDifferentiableAtZero => inner.IsDifferentiableAtZero;

    public string Name => "boxed " + inner.Name;

    public double Value(double u) => inner.Value(u);

    public double Derivative(double u) => inner.Derivative(u);

    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => inner.Evaluate(u, values);

    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => inner.EvaluateDerivative(u, values, derivatives);

    public void Validate() => inner.Validate();
}
