using System.Numerics;
using System.Numerics.Tensors;

namespace FeatureLearning.Kernels;

/// <summary>
/// The polynomial dot-product kernel k_M(x, z) = (xᵀMz + c)^p of integer degree p ≥ 1 and offset c ≥ 0;
/// <see cref="Quadratic"/> gives the quadratic kernel (xᵀMz + c)².
/// </summary>
/// <param name="Degree">The degree p ≥ 1.</param>
/// <param name="Offset">The offset c ≥ 0.</param>
public readonly record struct PolynomialKernel(int Degree, double Offset) : IKernelFunction
{
    /// <summary>The quadratic kernel (xᵀMz + c)².</summary>
    /// <param name="offset">The offset c ≥ 0.</param>
    /// <returns>A polynomial kernel of degree 2.</returns>
    public static PolynomialKernel Quadratic(double offset = 1.0) => new(2, offset);

    /// <inheritdoc />
    public KernelGeometry Geometry => KernelGeometry.DotProduct;

    /// <inheritdoc />
    public bool IsDifferentiableAtZero => true;

    /// <inheritdoc />
    public string Name => $"Polynomial(p={Degree}, c={Offset:G6})";

    /// <inheritdoc />
    public double Value(double u) => IntPow(u + Offset, Degree);

    /// <inheritdoc />
    public double Derivative(double u) => Degree * IntPow(u + Offset, Degree - 1);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, values, nameof(values));
        Power(u, Degree, values);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, derivatives, nameof(derivatives));
        Power(u, Degree - 1, derivatives);
        TensorPrimitives.Multiply(derivatives, T.CreateTruncating(Degree), derivatives);
    }

    /// <summary>destination = (u + c)^power by repeated multiplication (power ≥ 0).</summary>
    private void Power<T>(ReadOnlySpan<T> u, int power, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (power == 0)
        {
            destination.Fill(T.One);
            return;
        }

        // Work on the destination only after reading u: they may alias.
        TensorPrimitives.Add(u, KernelMath.Of<T>(Offset), destination);
        if (power == 1)
        {
            return;
        }

        int length = destination.Length;
        T[] rented = System.Buffers.ArrayPool<T>.Shared.Rent(length);
        try
        {
            Span<T> basis = rented.AsSpan(0, length);
            destination.CopyTo(basis);
            for (int i = 1; i < power; i++)
            {
                TensorPrimitives.Multiply(destination, basis, destination);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<T>.Shared.Return(rented);
        }
    }

    private static double IntPow(double x, int p)
    {
        double r = 1;
        for (int i = 0; i < p; i++)
        {
            r *= x;
        }

        return r;
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
        if (Degree < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Degree), Degree, "The polynomial degree must be at least 1.");
        }

        if (!double.IsFinite(Offset) || Offset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Offset), Offset, "The polynomial offset must be finite and non-negative.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
