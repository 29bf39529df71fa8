using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Kernels;

/// <summary>
/// A kernel profile written once per vector width, so that <see cref="ProfileLoop"/> can evaluate the value and the
/// derivative of a kernel in one pass over a span (one load of u, one store each of k and ∂k/∂u) instead of one
/// <see cref="System.Numerics.Tensors.TensorPrimitives"/> pass per operation.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
internal interface IProfileOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>k(u).</summary>
    T Value(T u);

    /// <summary>k(u), with ∂k/∂u in <paramref name="derivative"/>.</summary>
    T Value(T u, out T derivative);

    /// <summary>∂k/∂u given k(u).</summary>
    T Derivative(T u, T value);

    /// <summary>k(u).</summary>
    Vector256<T> Value(Vector256<T> u);

    /// <summary>k(u), with ∂k/∂u in <paramref name="derivative"/>.</summary>
    Vector256<T> Value(Vector256<T> u, out Vector256<T> derivative);

    /// <summary>∂k/∂u given k(u).</summary>
    Vector256<T> Derivative(Vector256<T> u, Vector256<T> value);

    /// <summary>k(u).</summary>
    Vector512<T> Value(Vector512<T> u);

    /// <summary>k(u), with ∂k/∂u in <paramref name="derivative"/>.</summary>
    Vector512<T> Value(Vector512<T> u, out Vector512<T> derivative);

    /// <summary>∂k/∂u given k(u).</summary>
    Vector512<T> Derivative(Vector512<T> u, Vector512<T> value);
}

/// <summary>
/// The span loops over an <see cref="IProfileOperator{T}"/>: Vector512 where it is accelerated, else Vector256, else
/// scalar, restricted like the GEMM micro-kernel by <c>FEATURELEARNING_SIMD</c>; the tail of a span that is not a whole
/// number of vectors is done in scalar code. Every element is read before its outputs are written, so an output may be
/// the same span as the input (element for element), which is what the aliasing rules of
/// <see cref="IKernelFunction.EvaluateWithDerivative{T}"/> allow.
/// </summary>
internal static class ProfileLoop
{
    private static readonly bool Use512 = Compute.Managed.SimdSetting.Use512;
    private static readonly bool Use256 = Compute.Managed.SimdSetting.Use256;

    /// <summary>values = k(u).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Values<T, TOp>(in TOp op, ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IProfileOperator<T>
    {
        KernelMath.CheckLengths(u, values, nameof(values));
        ref T pu = ref MemoryMarshal.GetReference(u);
        ref T pv = ref MemoryMarshal.GetReference(values);
        int n = u.Length, i = 0;
        if (Use512 && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                op.Value(Vector512.LoadUnsafe(ref pu, (nuint)i)).StoreUnsafe(ref pv, (nuint)i);
            }
        }
        else if (Use256 && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                op.Value(Vector256.LoadUnsafe(ref pu, (nuint)i)).StoreUnsafe(ref pv, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            values[i] = op.Value(u[i]);
        }
    }

    /// <summary>values = k(u) and derivatives = ∂k/∂u in one pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ValuesAndDerivatives<T, TOp>(in TOp op, ReadOnlySpan<T> u, Span<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IProfileOperator<T>
    {
        KernelMath.CheckLengths(u, values, nameof(values));
        KernelMath.CheckLengths(u, derivatives, nameof(derivatives));
        ref T pu = ref MemoryMarshal.GetReference(u);
        ref T pv = ref MemoryMarshal.GetReference(values);
        ref T pd = ref MemoryMarshal.GetReference(derivatives);
        int n = u.Length, i = 0;
        if (Use512 && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = op.Value(Vector512.LoadUnsafe(ref pu, (nuint)i), out var dv);
                v.StoreUnsafe(ref pv, (nuint)i);
                dv.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        else if (Use256 && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = op.Value(Vector256.LoadUnsafe(ref pu, (nuint)i), out var dv);
                v.StoreUnsafe(ref pv, (nuint)i);
                dv.StoreUnsafe(ref pd, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            T v = op.Value(u[i], out T dv);
            values[i] = v;
            derivatives[i] = dv;
        }
    }

    /// <summary>derivatives = ∂k/∂u given values = k(u).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Derivatives<T, TOp>(in TOp op, ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IProfileOperator<T>
    {
        KernelMath.CheckLengths(u, derivatives, nameof(derivatives));
        if (values.Length != u.Length)
        {
            throw new ArgumentException($"The values have {values.Length} elements where {u.Length} were expected.", nameof(values));
        }

        ref T pu = ref MemoryMarshal.GetReference(u);
        ref T pv = ref MemoryMarshal.GetReference(values);
        ref T pd = ref MemoryMarshal.GetReference(derivatives);
        int n = u.Length, i = 0;
        if (Use512 && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                op.Derivative(Vector512.LoadUnsafe(ref pu, (nuint)i), Vector512.LoadUnsafe(ref pv, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        else if (Use256 && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                op.Derivative(Vector256.LoadUnsafe(ref pu, (nuint)i), Vector256.LoadUnsafe(ref pv, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            derivatives[i] = op.Derivative(u[i], values[i]);
        }
    }

    /// <summary>e^v element-wise (the vector exponential of the runtime, the one TensorPrimitives.Exp uses).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? Vector512.Exp(v.As<T, double>()).As<double, T>() : Vector512.Exp(v.As<T, float>()).As<float, T>();

    /// <summary>e^v element-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? Vector256.Exp(v.As<T, double>()).As<double, T>() : Vector256.Exp(v.As<T, float>()).As<float, T>();

    /// <summary>ln v element-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log<T>(Vector512<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? Vector512.Log(v.As<T, double>()).As<double, T>() : Vector512.Log(v.As<T, float>()).As<float, T>();

    /// <summary>ln v element-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log<T>(Vector256<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? Vector256.Log(v.As<T, double>()).As<double, T>() : Vector256.Log(v.As<T, float>()).As<float, T>();
}
