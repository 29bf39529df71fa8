using System.Numerics;
using System.Numerics.Tensors;

namespace FeatureLearning.Kernels;

/// <summary>Shared span helpers for the kernel profiles.</summary>
internal static class KernelMath
{
    public static T Of<T>(double value)
        where T : unmanaged, IFloatingPointIeee754<T> => T.CreateTruncating(value);

    public static void CheckLengths<T>(ReadOnlySpan<T> a, Span<T> b, string nameB)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"The destination has {b.Length} elements where {a.Length} were expected.", nameB);
        }
    }

    /// <summary>values = exp(scale · u).</summary>
    public static void ExpScaled<T>(ReadOnlySpan<T> u, T scale, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Multiply(u, scale, values);
        TensorPrimitives.Exp(values, values);
    }

    public static void RequirePositive(double value, string name, string what) => Validation.PositiveFinite(value, name, what);
}
