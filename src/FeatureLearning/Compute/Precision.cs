using System.Numerics;

namespace FeatureLearning.Compute;

/// <summary>The floating-point precision of a computation.</summary>
public enum Precision
{
    /// <summary>IEEE 754 binary32 (<see cref="float"/>).</summary>
    Single = 32,

    /// <summary>IEEE 754 binary64 (<see cref="double"/>).</summary>
    Double = 64,
}

/// <summary>Helpers that map element types to <see cref="Precision"/>.</summary>
public static class PrecisionExtensions
{
    /// <summary>The precision of <typeparamref name="T"/>.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <returns>The precision.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public static Precision Of<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            return Precision.Double;
        }

        if (typeof(T) == typeof(float))
        {
            return Precision.Single;
        }

        throw new NotSupportedException($"Element type {typeof(T).Name} is not supported: use float or double.");
    }

    /// <summary>Lower-case name: <c>single</c> or <c>double</c>.</summary>
    /// <param name="precision">The precision.</param>
    /// <returns>The name.</returns>
    public static string ToName(this Precision precision) => precision == Precision.Single ? "single" : "double";
}
