using System.Numerics;
using FeatureLearning.Networks;

namespace FeatureLearning.Compute;

/// <summary>
/// The shape checks and the host loop of <see cref="IComputeBackend.ApplyActivation{T}"/>: the CPU backends and the
/// interface's default (download, host, upload) evaluate φ, φ′ or φ″ through the double-precision scalars of
/// <see cref="Activation"/>.
/// </summary>
internal static class ActivationOperands
{
    /// <summary>The highest derivative order the primitive evaluates (φ″).</summary>
    public const int MaxOrder = 2;

    /// <summary>Validates the activation, the derivative order and the two buffers (same shape, contiguous).</summary>
    public static void Check<T>(Activation activation, int derivativeOrder, DeviceBuffer<T> input, DeviceBuffer<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        activation.Validate();
        if (derivativeOrder is < 0 or > MaxOrder)
        {
            throw new ArgumentOutOfRangeException(nameof(derivativeOrder), derivativeOrder, "The derivative order must be 0 (φ), 1 (φ′) or 2 (φ″).");
        }

        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Shapes.CheckSameShape(input, output, nameof(output));
    }

    /// <summary>y_i ← φ^(order)(x_i), computed in double precision; <paramref name="y"/> may be <paramref name="x"/>.</summary>
    public static void Apply<T>(Activation activation, int order, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++)
        {
            double v = double.CreateTruncating(x[i]);
            double r = order switch
            {
                0 => activation.Value(v),
                1 => activation.Derivative(v),
                _ => activation.SecondDerivative(v),
            };
            y[i] = T.CreateTruncating(r);
        }
    }
}
