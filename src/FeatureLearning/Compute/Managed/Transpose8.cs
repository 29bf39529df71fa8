using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FeatureLearning.Compute.Managed;

/// <summary>
/// 8 × 8 block transposes in registers for the GEMM's packing: an A panel of eight rows and a transposed B panel are
/// interleaved eight values at a time with vector loads and stores instead of one scattered store per element (the packing
/// of the large operand dominated products with a narrow result, such as K·α with 61 outputs).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
internal static unsafe class Transpose8<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether the vector form runs here: AVX-512 for <see cref="double"/>, AVX for <see cref="float"/>, within the SIMD width
    /// the GEMM uses (<see cref="SimdSetting"/>).
    /// </summary>
    public static bool Supported { get; } =
        (typeof(T) == typeof(double) && PackedGemm<T>.SimdBits == 512 && Avx512F.IsSupported)
        || (typeof(T) == typeof(float) && PackedGemm<T>.SimdBits >= 256 && Avx.IsSupported);

    /// <summary>
    /// dst[c·ldd + r] = α·src[r·lds + c] for r, c &lt; 8: eight rows of eight values become eight rows of eight values,
    /// transposed (only where <see cref="Supported"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(T* src, int lds, T* dst, int ldd, T alpha, bool scale)
    {
        if (typeof(T) == typeof(double))
        {
            Double((double*)src, lds, (double*)dst, ldd, double.CreateTruncating(alpha), scale);
        }
        else
        {
            Single((float*)src, lds, (float*)dst, ldd, float.CreateTruncating(alpha), scale);
        }
    }

    /// <summary>
    /// dst[c·ldd + r] = α·src[r·lds + c] for r, c &lt; 4: four rows of four values transposed in registers (only where
    /// <see cref="Supported"/>); the last four of twelve interleaved rows, beside <see cref="Block"/>'s eight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block4(T* src, int lds, T* dst, int ldd, T alpha, bool scale)
    {
        if (typeof(T) == typeof(double))
        {
            double* s = (double*)src, d = (double*)dst;
            var t0 = Avx.UnpackLow(Vector256.Load(s), Vector256.Load(s + lds));
            var t1 = Avx.UnpackHigh(Vector256.Load(s), Vector256.Load(s + lds));
            var t2 = Avx.UnpackLow(Vector256.Load(s + (2 * lds)), Vector256.Load(s + (3 * lds)));
            var t3 = Avx.UnpackHigh(Vector256.Load(s + (2 * lds)), Vector256.Load(s + (3 * lds)));
            var f = Vector256.Create(double.CreateTruncating(alpha));
            Put4(d, Avx.Permute2x128(t0, t2, 0x20), f, scale);
            Put4(d + ldd, Avx.Permute2x128(t1, t3, 0x20), f, scale);
            Put4(d + (2 * ldd), Avx.Permute2x128(t0, t2, 0x31), f, scale);
            Put4(d + (3 * ldd), Avx.Permute2x128(t1, t3, 0x31), f, scale);
        }
        else
        {
            float* s = (float*)src, d = (float*)dst;
            var t0 = Sse.UnpackLow(Vector128.Load(s), Vector128.Load(s + lds));
            var t1 = Sse.UnpackHigh(Vector128.Load(s), Vector128.Load(s + lds));
            var t2 = Sse.UnpackLow(Vector128.Load(s + (2 * lds)), Vector128.Load(s + (3 * lds)));
            var t3 = Sse.UnpackHigh(Vector128.Load(s + (2 * lds)), Vector128.Load(s + (3 * lds)));
            var f = Vector128.Create(float.CreateTruncating(alpha));
            Put4(d, Sse.MoveLowToHigh(t0, t2), f, scale);
            Put4(d + ldd, Sse.MoveHighToLow(t2, t0), f, scale);
            Put4(d + (2 * ldd), Sse.MoveLowToHigh(t1, t3), f, scale);
            Put4(d + (3 * ldd), Sse.MoveHighToLow(t3, t1), f, scale);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put4(double* d, Vector256<double> v, Vector256<double> f, bool scale) => (scale ? v * f : v).Store(d);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put4(float* d, Vector128<float> v, Vector128<float> f, bool scale) => (scale ? v * f : v).Store(d);

    /// <summary>dst[r] = α·src[r] for r &lt; 8, as one vector (only where <see cref="Supported"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(T* src, T* dst, T alpha, bool scale)
    {
        if (typeof(T) == typeof(double))
        {
            Put((double*)dst, Vector512.Load((double*)src), Vector512.Create(double.CreateTruncating(alpha)), scale);
        }
        else
        {
            Put((float*)dst, Vector256.Load((float*)src), Vector256.Create(float.CreateTruncating(alpha)), scale);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Double(double* s, int lds, double* d, int ldd, double alpha, bool scale)
    {
        // Within 128-bit lanes, then lanes pairwise (control 0x88 takes lanes 0 and 2 of each source, 0xDD lanes 1 and 3).
        var a0 = Avx512F.UnpackLow(Vector512.Load(s), Vector512.Load(s + lds));
        var a1 = Avx512F.UnpackHigh(Vector512.Load(s), Vector512.Load(s + lds));
        var a2 = Avx512F.UnpackLow(Vector512.Load(s + (2 * lds)), Vector512.Load(s + (3 * lds)));
        var a3 = Avx512F.UnpackHigh(Vector512.Load(s + (2 * lds)), Vector512.Load(s + (3 * lds)));
        var a4 = Avx512F.UnpackLow(Vector512.Load(s + (4 * lds)), Vector512.Load(s + (5 * lds)));
        var a5 = Avx512F.UnpackHigh(Vector512.Load(s + (4 * lds)), Vector512.Load(s + (5 * lds)));
        var a6 = Avx512F.UnpackLow(Vector512.Load(s + (6 * lds)), Vector512.Load(s + (7 * lds)));
        var a7 = Avx512F.UnpackHigh(Vector512.Load(s + (6 * lds)), Vector512.Load(s + (7 * lds)));
        var b0 = Avx512F.Shuffle4x128(a0, a2, 0x88);
        var b1 = Avx512F.Shuffle4x128(a0, a2, 0xDD);
        var b2 = Avx512F.Shuffle4x128(a1, a3, 0x88);
        var b3 = Avx512F.Shuffle4x128(a1, a3, 0xDD);
        var b4 = Avx512F.Shuffle4x128(a4, a6, 0x88);
        var b5 = Avx512F.Shuffle4x128(a4, a6, 0xDD);
        var b6 = Avx512F.Shuffle4x128(a5, a7, 0x88);
        var b7 = Avx512F.Shuffle4x128(a5, a7, 0xDD);
        var f = Vector512.Create(alpha);
        Put(d, Avx512F.Shuffle4x128(b0, b4, 0x88), f, scale);
        Put(d + ldd, Avx512F.Shuffle4x128(b2, b6, 0x88), f, scale);
        Put(d + (2 * ldd), Avx512F.Shuffle4x128(b1, b5, 0x88), f, scale);
        Put(d + (3 * ldd), Avx512F.Shuffle4x128(b3, b7, 0x88), f, scale);
        Put(d + (4 * ldd), Avx512F.Shuffle4x128(b0, b4, 0xDD), f, scale);
        Put(d + (5 * ldd), Avx512F.Shuffle4x128(b2, b6, 0xDD), f, scale);
        Put(d + (6 * ldd), Avx512F.Shuffle4x128(b1, b5, 0xDD), f, scale);
        Put(d + (7 * ldd), Avx512F.Shuffle4x128(b3, b7, 0xDD), f, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(double* d, Vector512<double> v, Vector512<double> f, bool scale) => (scale ? v * f : v).Store(d);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Single(float* s, int lds, float* d, int ldd, float alpha, bool scale)
    {
        var t0 = Avx.UnpackLow(Vector256.Load(s), Vector256.Load(s + lds));
        var t1 = Avx.UnpackHigh(Vector256.Load(s), Vector256.Load(s + lds));
        var t2 = Avx.UnpackLow(Vector256.Load(s + (2 * lds)), Vector256.Load(s + (3 * lds)));
        var t3 = Avx.UnpackHigh(Vector256.Load(s + (2 * lds)), Vector256.Load(s + (3 * lds)));
        var t4 = Avx.UnpackLow(Vector256.Load(s + (4 * lds)), Vector256.Load(s + (5 * lds)));
        var t5 = Avx.UnpackHigh(Vector256.Load(s + (4 * lds)), Vector256.Load(s + (5 * lds)));
        var t6 = Avx.UnpackLow(Vector256.Load(s + (6 * lds)), Vector256.Load(s + (7 * lds)));
        var t7 = Avx.UnpackHigh(Vector256.Load(s + (6 * lds)), Vector256.Load(s + (7 * lds)));
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        var f = Vector256.Create(alpha);
        Put(d, Avx.Permute2x128(u0, u4, 0x20), f, scale);
        Put(d + ldd, Avx.Permute2x128(u1, u5, 0x20), f, scale);
        Put(d + (2 * ldd), Avx.Permute2x128(u2, u6, 0x20), f, scale);
        Put(d + (3 * ldd), Avx.Permute2x128(u3, u7, 0x20), f, scale);
        Put(d + (4 * ldd), Avx.Permute2x128(u0, u4, 0x31), f, scale);
        Put(d + (5 * ldd), Avx.Permute2x128(u1, u5, 0x31), f, scale);
        Put(d + (6 * ldd), Avx.Permute2x128(u2, u6, 0x31), f, scale);
        Put(d + (7 * ldd), Avx.Permute2x128(u3, u7, 0x31), f, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* d, Vector256<float> v, Vector256<float> f, bool scale) => (scale ? v * f : v).Store(d);
}
