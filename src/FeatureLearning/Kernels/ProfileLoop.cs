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

    /// <summary>
    /// The relative level below which a squared distance s = ‖x‖² + ‖z‖² − 2xᵀz is rounding, not distance: 64 rounding units of
    /// ‖x‖² + ‖z‖², below which <see cref="SquaredDistance{T}(T, T, T)"/> returns exactly 0.
    /// </summary>
    public static T DistanceTolerance<T>()
        where T : unmanaged, IFloatingPointIeee754<T> =>
        T.CreateTruncating(typeof(T) == typeof(float) ? 64 * 1.1920929e-7 : 64 * 2.220446049250313e-16);

    /// <summary>s = max(‖x‖² + ‖z‖² − 2g, 0), exactly 0 below <see cref="DistanceTolerance{T}"/>·(‖x‖² + ‖z‖²).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T SquaredDistance<T>(T g, T xNorm, T zNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = xNorm + zNorm;
        T v = sum - (T.CreateTruncating(2) * g);
        return v > DistanceTolerance<T>() * sum ? v : T.Zero;
    }

    /// <summary>The same as <see cref="SquaredDistance{T}(T, T, T)"/>, element-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> SquaredDistance<T>(Vector512<T> g, Vector512<T> xNorm, Vector512<T> zNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sum = xNorm + zNorm;
        var v = sum - (Vector512.Create(T.CreateTruncating(2)) * g);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512.Create(DistanceTolerance<T>()) * sum), v, Vector512<T>.Zero);
    }

    /// <summary>The same as <see cref="SquaredDistance{T}(T, T, T)"/>, element-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> SquaredDistance<T>(Vector256<T> g, Vector256<T> xNorm, Vector256<T> zNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sum = xNorm + zNorm;
        var v = sum - (Vector256.Create(T.CreateTruncating(2)) * g);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256.Create(DistanceTolerance<T>()) * sum), v, Vector256<T>.Zero);
    }

    /// <summary>
    /// values = k(s) and, unless <paramref name="derivatives"/> is empty, derivatives = ∂k/∂s, for the squared distances
    /// s_j = <see cref="SquaredDistance{T}(T, T, T)"/>(g_j, ‖x‖², ‖z_j‖²) of one row x against the columns z_j, in one pass:
    /// the distances are never stored. The same bits as the distances stored first and then <see cref="Values{T, TOp}"/> or
    /// <see cref="ValuesAndDerivatives{T, TOp}"/> over them (the same vectors and the same scalar tail). <paramref name="values"/>
    /// may be <paramref name="g"/> (element for element).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FromInnerProducts<T, TOp>(in TOp op, ReadOnlySpan<T> g, T xNorm, ReadOnlySpan<T> zNorms, Span<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IProfileOperator<T>
    {
        KernelMath.CheckLengths(g, values, nameof(values));
        if (zNorms.Length != g.Length)
        {
            throw new ArgumentException($"The norms have {zNorms.Length} elements where {g.Length} were expected.", nameof(zNorms));
        }

        bool both = !derivatives.IsEmpty;
        if (both)
        {
            KernelMath.CheckLengths(g, derivatives, nameof(derivatives));
        }

        ref T pg = ref MemoryMarshal.GetReference(g);
        ref T pz = ref MemoryMarshal.GetReference(zNorms);
        ref T pv = ref MemoryMarshal.GetReference(values);
        ref T pd = ref MemoryMarshal.GetReference(derivatives);
        int n = g.Length, i = 0;
        if (Use512 && Vector512<T>.IsSupported)
        {
            var xn = Vector512.Create(xNorm);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var u = SquaredDistance(Vector512.LoadUnsafe(ref pg, (nuint)i), xn, Vector512.LoadUnsafe(ref pz, (nuint)i));
                if (both)
                {
                    var v = op.Value(u, out var dv);
                    v.StoreUnsafe(ref pv, (nuint)i);
                    dv.StoreUnsafe(ref pd, (nuint)i);
                }
                else
                {
                    op.Value(u).StoreUnsafe(ref pv, (nuint)i);
                }
            }
        }
        else if (Use256 && Vector256<T>.IsSupported)
        {
            var xn = Vector256.Create(xNorm);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var u = SquaredDistance(Vector256.LoadUnsafe(ref pg, (nuint)i), xn, Vector256.LoadUnsafe(ref pz, (nuint)i));
                if (both)
                {
                    var v = op.Value(u, out var dv);
                    v.StoreUnsafe(ref pv, (nuint)i);
                    dv.StoreUnsafe(ref pd, (nuint)i);
                }
                else
                {
                    op.Value(u).StoreUnsafe(ref pv, (nuint)i);
                }
            }
        }

        for (; i < n; i++)
        {
            T u = SquaredDistance(g[i], xNorm, zNorms[i]);
            if (both)
            {
                values[i] = op.Value(u, out T dv);
                derivatives[i] = dv;
            }
            else
            {
                values[i] = op.Value(u);
            }
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
}
