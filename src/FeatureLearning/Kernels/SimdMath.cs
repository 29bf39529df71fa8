using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FeatureLearning.Kernels;

/// <summary>
/// e^x, ln x and 1/√x on SIMD vectors of <see cref="float"/> and <see cref="double"/>, inlined into the kernel profiles' loops.
/// </summary>
/// <remarks>
/// <para>
/// <b>Exp.</b> x = k·ln 2 + r with k the nearest integer to x/ln 2 and |r| ≤ ln 2 / 2 (Cody–Waite: ln 2 in two parts, so k·ln 2
/// is exact for every k in range); e^r by its Taylor polynomial in Horner form, of degree 13 in double and 7 in single precision,
/// whose truncation error is below 0.1 ulp at |r| = ln 2 / 2; then the product with 2^k, built in the exponent bits as
/// 2^⌊k/2⌋·2^(k − ⌊k/2⌋): the first product is exact, so the scaling rounds once, also into the subnormal range, and 2^1024
/// never has to be formed. NaN gives NaN, +∞ gives +∞, −∞ gives 0. Within 1 ulp of <see cref="Math.Exp"/> /
/// <see cref="MathF.Exp"/> over the whole range (tests; in single precision every float with |x| ≤ 120 is within 0.94 ulp
/// of the exact value, docs/cpu/2026-11-27-s18/exp-float-exhaustive.txt), and on a Zen 4 2.6 times the speed of the runtime's
/// <c>Vector512.Exp</c> in double and 11 times in single: the runtime's is a call, not inlined, and evaluates single precision
/// in double.
/// </para>
/// <para>
/// <b>Log.</b> x = 2^e·m with m in [√½, √2) (a subnormal x scaled by 2^52, or 2^23, first), read off the bits; then
/// ln m = ln(1 + f) = f − (f²/2 − s·(f²/2 + R(s²))) with f = m − 1 (exact), s = f/(2 + f) and R the series of
/// 2·atanh(s) − 2s, Σ 2s^(2j)/(2j + 1), to s²⁰ in double and s¹⁰ in single precision (|s| ≤ 0.172); plus e·ln 2 in the two
/// parts of the exponential. 0 gives −∞, x &lt; 0 and NaN give NaN, +∞ gives +∞. Within 1 ulp of <see cref="Math.Log(double)"/>
/// in double and 0.77 ulp of the exact value in single precision (tests and a 4-million-argument check), 2.5 and 2.4 times the
/// speed of the runtime's <c>Vector512.Log</c> on a Zen 4.
/// </para>
/// <para>
/// <b>Inverse square root.</b> The 14-bit estimate of AVX-512 (<c>vrsqrt14</c>), or AVX's 12-bit one for 256-bit single
/// precision without AVX-512 (which reads subnormal inputs as 0: those lanes are scaled by 2²⁴ first), then Newton steps
/// y ← y + (y/2)·(1 − (x·y)·y), the residual by a fused multiply-add: two in double, one in single precision (two from the
/// 12-bit estimate). Within 2 ulp for every positive finite x, subnormal x included, without a square root or a division
/// (tests). x = 0 and x = +∞ give NaN there; callers select those lanes. Without AVX-512 a 256-bit double vector takes 1/√x
/// by the square root and a division (<see cref="EstimatesInverseSqrt256{T}"/>).
/// </para>
/// </remarks>
internal static class SimdMath
{
    /// <summary>e^x element-wise (the type's remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            var v = x.As<T, double>();
            var xc = Vector512.MinNative(Vector512.MaxNative(v, Vector512.Create(-746.0)), Vector512.Create(710.0));

            // k = round(x / ln 2) by the 1.5·2^52 shifter: its low bits then hold k.
            var shifted = Vector512.FusedMultiplyAdd(xc, Vector512.Create(Log2E), Vector512.Create(Shifter));
            var k = shifted - Vector512.Create(Shifter);
            var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2High), xc);
            r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Low), r);
            var p = Taylor(r);

            var k1 = Vector512.Floor(k * 0.5);
            var scaled = p * PowerOfTwo(k1) * PowerOfTwo(k - k1);
            return Vector512.ConditionalSelect(Vector512.Equals(v, v), scaled, v).As<double, T>();
        }
        else
        {
            var v = x.As<T, float>();
            var xc = Vector512.MinNative(Vector512.MaxNative(v, Vector512.Create(-104f)), Vector512.Create(89f));
            var shifted = Vector512.FusedMultiplyAdd(xc, Vector512.Create(Log2EF), Vector512.Create(ShifterF));
            var k = shifted - Vector512.Create(ShifterF);
            var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2HighF), xc);
            r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2LowF), r);
            var p = Taylor(r);

            var k1 = Vector512.Floor(k * 0.5f);
            var scaled = p * PowerOfTwo(k1) * PowerOfTwo(k - k1);
            return Vector512.ConditionalSelect(Vector512.Equals(v, v), scaled, v).As<float, T>();
        }
    }

    /// <summary>e^x element-wise (the type's remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            var v = x.As<T, double>();
            var xc = Vector256.MinNative(Vector256.MaxNative(v, Vector256.Create(-746.0)), Vector256.Create(710.0));
            var shifted = Vector256.FusedMultiplyAdd(xc, Vector256.Create(Log2E), Vector256.Create(Shifter));
            var k = shifted - Vector256.Create(Shifter);
            var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2High), xc);
            r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Low), r);
            var p = Taylor(r);

            var k1 = Vector256.Floor(k * 0.5);
            var scaled = p * PowerOfTwo(k1) * PowerOfTwo(k - k1);
            return Vector256.ConditionalSelect(Vector256.Equals(v, v), scaled, v).As<double, T>();
        }
        else
        {
            var v = x.As<T, float>();
            var xc = Vector256.MinNative(Vector256.MaxNative(v, Vector256.Create(-104f)), Vector256.Create(89f));
            var shifted = Vector256.FusedMultiplyAdd(xc, Vector256.Create(Log2EF), Vector256.Create(ShifterF));
            var k = shifted - Vector256.Create(ShifterF);
            var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2HighF), xc);
            r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2LowF), r);
            var p = Taylor(r);

            var k1 = Vector256.Floor(k * 0.5f);
            var scaled = p * PowerOfTwo(k1) * PowerOfTwo(k - k1);
            return Vector256.ConditionalSelect(Vector256.Equals(v, v), scaled, v).As<float, T>();
        }
    }

    /// <summary>ln x element-wise (the type's remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log<T>(Vector512<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            var v = x.As<T, double>();
            // Subnormal x: scaled into the normal range first, its exponent corrected after.
            var tiny = Vector512.LessThan(v, Vector512.Create(2.2250738585072014e-308));
            var y = Vector512.ConditionalSelect(tiny, v * 4503599627370496.0, v);
            var bits = y.AsUInt64();
            // The exponent field as a double (OR-ed into the mantissa of 2^52 and that subtracted), the mantissa m in [1, 2).
            var e = (Vector512.ShiftRightLogical(bits, 52) | Vector512.Create(0x4330000000000000UL)).AsDouble() - Vector512.Create(4503599627370496.0 + 1023.0);
            e -= Vector512.ConditionalSelect(tiny, Vector512.Create(52.0), Vector512<double>.Zero);
            var m = ((bits & Vector512.Create(0x000FFFFFFFFFFFFFUL)) | Vector512.Create(0x3FF0000000000000UL)).AsDouble();
            // m in [√½, √2): f = m − 1 is exact (Sterbenz), and s = f/(2 + f) has |s| ≤ 0.172.
            var big = Vector512.GreaterThan(m, Vector512.Create(1.4142135623730951));
            m = Vector512.ConditionalSelect(big, m * 0.5, m);
            e += Vector512.ConditionalSelect(big, Vector512<double>.One, Vector512<double>.Zero);
            var f = m - Vector512<double>.One;
            var s = f / (f + Vector512.Create(2.0));
            var z = s * s;
            var rz = Vector512.Create(2.0 / 21.0);
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 19.0));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 17.0));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 15.0));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 13.0));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 11.0));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 9.0));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 7.0));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 5.0));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2.0 / 3.0));
            rz *= z;
            // ln(1 + f) = f − (f²/2 − s·(f²/2 + R)), R = Σ 2z^j/(2j + 1); then e·ln 2 in two parts.
            var hfsq = Vector512.Create(0.5) * f * f;
            var low = Vector512.FusedMultiplyAdd(s, hfsq + rz, e * Ln2Low);
            var result = Vector512.FusedMultiplyAdd(e, Vector512.Create(Ln2High), f - (hfsq - low));
            result = Vector512.ConditionalSelect(Vector512.Equals(v, Vector512.Create(double.PositiveInfinity)), v, result);
            result = Vector512.ConditionalSelect(Vector512.Equals(v, Vector512<double>.Zero), Vector512.Create(double.NegativeInfinity), result);
            return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<double>.Zero), result, Vector512.Create(double.NaN)).As<double, T>();
        }
        else
        {
            var v = x.As<T, float>();
            // Subnormal x: scaled into the normal range first, its exponent corrected after.
            var tiny = Vector512.LessThan(v, Vector512.Create(1.17549435e-38f));
            var y = Vector512.ConditionalSelect(tiny, v * 8388608f, v);
            var bits = y.AsUInt32();
            // The exponent field as a float (OR-ed into the mantissa of 2^23 and that subtracted), the mantissa m in [1, 2).
            var e = (Vector512.ShiftRightLogical(bits, 23) | Vector512.Create(0x4B000000U)).AsSingle() - Vector512.Create(8388608f + 127f);
            e -= Vector512.ConditionalSelect(tiny, Vector512.Create(23f), Vector512<float>.Zero);
            var m = ((bits & Vector512.Create(0x007FFFFFU)) | Vector512.Create(0x3F800000U)).AsSingle();
            // m in [√½, √2): f = m − 1 is exact (Sterbenz), and s = f/(2 + f) has |s| ≤ 0.172.
            var big = Vector512.GreaterThan(m, Vector512.Create(1.41421354f));
            m = Vector512.ConditionalSelect(big, m * 0.5f, m);
            e += Vector512.ConditionalSelect(big, Vector512<float>.One, Vector512<float>.Zero);
            var f = m - Vector512<float>.One;
            var s = f / (f + Vector512.Create(2f));
            var z = s * s;
            var rz = Vector512.Create(2f / 11f);
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2f / 9f));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2f / 7f));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2f / 5f));
            rz = Vector512.FusedMultiplyAdd(rz, z, Vector512.Create(2f / 3f));
            rz *= z;
            // ln(1 + f) = f − (f²/2 − s·(f²/2 + R)), R = Σ 2z^j/(2j + 1); then e·ln 2 in two parts.
            var hfsq = Vector512.Create(0.5f) * f * f;
            var low = Vector512.FusedMultiplyAdd(s, hfsq + rz, e * Ln2LowF);
            var result = Vector512.FusedMultiplyAdd(e, Vector512.Create(Ln2HighF), f - (hfsq - low));
            result = Vector512.ConditionalSelect(Vector512.Equals(v, Vector512.Create(float.PositiveInfinity)), v, result);
            result = Vector512.ConditionalSelect(Vector512.Equals(v, Vector512<float>.Zero), Vector512.Create(float.NegativeInfinity), result);
            return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero), result, Vector512.Create(float.NaN)).As<float, T>();
        }
    }

    /// <summary>ln x element-wise (the type's remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log<T>(Vector256<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            var v = x.As<T, double>();
            // Subnormal x: scaled into the normal range first, its exponent corrected after.
            var tiny = Vector256.LessThan(v, Vector256.Create(2.2250738585072014e-308));
            var y = Vector256.ConditionalSelect(tiny, v * 4503599627370496.0, v);
            var bits = y.AsUInt64();
            // The exponent field as a double (OR-ed into the mantissa of 2^52 and that subtracted), the mantissa m in [1, 2).
            var e = (Vector256.ShiftRightLogical(bits, 52) | Vector256.Create(0x4330000000000000UL)).AsDouble() - Vector256.Create(4503599627370496.0 + 1023.0);
            e -= Vector256.ConditionalSelect(tiny, Vector256.Create(52.0), Vector256<double>.Zero);
            var m = ((bits & Vector256.Create(0x000FFFFFFFFFFFFFUL)) | Vector256.Create(0x3FF0000000000000UL)).AsDouble();
            // m in [√½, √2): f = m − 1 is exact (Sterbenz), and s = f/(2 + f) has |s| ≤ 0.172.
            var big = Vector256.GreaterThan(m, Vector256.Create(1.4142135623730951));
            m = Vector256.ConditionalSelect(big, m * 0.5, m);
            e += Vector256.ConditionalSelect(big, Vector256<double>.One, Vector256<double>.Zero);
            var f = m - Vector256<double>.One;
            var s = f / (f + Vector256.Create(2.0));
            var z = s * s;
            var rz = Vector256.Create(2.0 / 21.0);
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 19.0));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 17.0));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 15.0));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 13.0));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 11.0));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 9.0));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 7.0));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 5.0));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2.0 / 3.0));
            rz *= z;
            // ln(1 + f) = f − (f²/2 − s·(f²/2 + R)), R = Σ 2z^j/(2j + 1); then e·ln 2 in two parts.
            var hfsq = Vector256.Create(0.5) * f * f;
            var low = Vector256.FusedMultiplyAdd(s, hfsq + rz, e * Ln2Low);
            var result = Vector256.FusedMultiplyAdd(e, Vector256.Create(Ln2High), f - (hfsq - low));
            result = Vector256.ConditionalSelect(Vector256.Equals(v, Vector256.Create(double.PositiveInfinity)), v, result);
            result = Vector256.ConditionalSelect(Vector256.Equals(v, Vector256<double>.Zero), Vector256.Create(double.NegativeInfinity), result);
            return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<double>.Zero), result, Vector256.Create(double.NaN)).As<double, T>();
        }
        else
        {
            var v = x.As<T, float>();
            // Subnormal x: scaled into the normal range first, its exponent corrected after.
            var tiny = Vector256.LessThan(v, Vector256.Create(1.17549435e-38f));
            var y = Vector256.ConditionalSelect(tiny, v * 8388608f, v);
            var bits = y.AsUInt32();
            // The exponent field as a float (OR-ed into the mantissa of 2^23 and that subtracted), the mantissa m in [1, 2).
            var e = (Vector256.ShiftRightLogical(bits, 23) | Vector256.Create(0x4B000000U)).AsSingle() - Vector256.Create(8388608f + 127f);
            e -= Vector256.ConditionalSelect(tiny, Vector256.Create(23f), Vector256<float>.Zero);
            var m = ((bits & Vector256.Create(0x007FFFFFU)) | Vector256.Create(0x3F800000U)).AsSingle();
            // m in [√½, √2): f = m − 1 is exact (Sterbenz), and s = f/(2 + f) has |s| ≤ 0.172.
            var big = Vector256.GreaterThan(m, Vector256.Create(1.41421354f));
            m = Vector256.ConditionalSelect(big, m * 0.5f, m);
            e += Vector256.ConditionalSelect(big, Vector256<float>.One, Vector256<float>.Zero);
            var f = m - Vector256<float>.One;
            var s = f / (f + Vector256.Create(2f));
            var z = s * s;
            var rz = Vector256.Create(2f / 11f);
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2f / 9f));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2f / 7f));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2f / 5f));
            rz = Vector256.FusedMultiplyAdd(rz, z, Vector256.Create(2f / 3f));
            rz *= z;
            // ln(1 + f) = f − (f²/2 − s·(f²/2 + R)), R = Σ 2z^j/(2j + 1); then e·ln 2 in two parts.
            var hfsq = Vector256.Create(0.5f) * f * f;
            var low = Vector256.FusedMultiplyAdd(s, hfsq + rz, e * Ln2LowF);
            var result = Vector256.FusedMultiplyAdd(e, Vector256.Create(Ln2HighF), f - (hfsq - low));
            result = Vector256.ConditionalSelect(Vector256.Equals(v, Vector256.Create(float.PositiveInfinity)), v, result);
            result = Vector256.ConditionalSelect(Vector256.Equals(v, Vector256<float>.Zero), Vector256.Create(float.NegativeInfinity), result);
            return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), result, Vector256.Create(float.NaN)).As<float, T>();
        }
    }

    /// <summary>1/√x element-wise for x &gt; 0 finite, subnormal x included (the type's remarks); 0 and +∞ give NaN on the estimate's path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> InverseSqrt<T>(Vector512<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!EstimatesInverseSqrt512<T>())
        {
            return Vector512<T>.One / Vector512.Sqrt(x);
        }

        if (typeof(T) == typeof(double))
        {
            var v = x.As<T, double>();
            var y = Avx512F.ReciprocalSqrt14(v);
            y = NewtonStep(y, v);
            return NewtonStep(y, v).As<double, T>();
        }
        else
        {
            var v = x.As<T, float>();
            return NewtonStep(Avx512F.ReciprocalSqrt14(v), v).As<float, T>();
        }
    }

    /// <summary>1/√x element-wise for x &gt; 0 finite, subnormal x included (the type's remarks); 0 and +∞ give NaN on the estimate's path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> InverseSqrt<T>(Vector256<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!EstimatesInverseSqrt256<T>())
        {
            return Vector256<T>.One / Vector256.Sqrt(x);
        }

        if (typeof(T) == typeof(double))
        {
            var v = x.As<T, double>();
            var y = Avx512F.VL.ReciprocalSqrt14(v);
            y = NewtonStep(y, v);
            return NewtonStep(y, v).As<double, T>();
        }
        else if (Avx512F.VL.IsSupported)
        {
            var v = x.As<T, float>();
            return NewtonStep(Avx512F.VL.ReciprocalSqrt14(v), v).As<float, T>();
        }
        else
        {
            // AVX's estimate reads a subnormal x as 0 (∞ back): such lanes are scaled by 2^24 first and their result by 2^12.
            var v = x.As<T, float>();
            var tiny = Vector256.LessThan(v, Vector256.Create(1.17549435e-38f));
            var scaled = Vector256.ConditionalSelect(tiny, v * 16777216f, v);
            var y = Avx.ReciprocalSqrt(scaled);
            y = NewtonStep(y, scaled);
            y = NewtonStep(y, scaled);
            return Vector256.ConditionalSelect(tiny, y * 4096f, y).As<float, T>();
        }
    }

    /// <summary>Whether <see cref="InverseSqrt{T}(Vector512{T})"/> starts from an estimate instruction (AVX-512) rather than a square root and a division.</summary>
    public static bool EstimatesInverseSqrt512<T>() => Avx512F.IsSupported;

    /// <summary>Whether <see cref="InverseSqrt{T}(Vector256{T})"/> starts from an estimate instruction: AVX-512VL, or AVX in single precision.</summary>
    public static bool EstimatesInverseSqrt256<T>() => Avx512F.VL.IsSupported || (typeof(T) == typeof(float) && Avx.IsSupported);

    /// <summary>
    /// One Newton step towards 1/√x: y + (y/2)·(1 − (x·y)·y), the residual by a fused multiply-add. x·y (about √x) and y/2 stay
    /// normal for every positive normal or subnormal x, where x/2 would round.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> NewtonStep(Vector512<double> y, Vector512<double> x) =>
        Vector512.FusedMultiplyAdd(y * 0.5, Vector512.FusedMultiplyAdd(-(x * y), y, Vector512.Create(1.0)), y);

    /// <summary>
    /// One Newton step towards 1/√x: y + (y/2)·(1 − (x·y)·y), the residual by a fused multiply-add. x·y (about √x) and y/2 stay
    /// normal for every positive normal or subnormal x, where x/2 would round.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> NewtonStep(Vector512<float> y, Vector512<float> x) =>
        Vector512.FusedMultiplyAdd(y * 0.5f, Vector512.FusedMultiplyAdd(-(x * y), y, Vector512.Create(1f)), y);

    /// <summary>
    /// One Newton step towards 1/√x: y + (y/2)·(1 − (x·y)·y), the residual by a fused multiply-add. x·y (about √x) and y/2 stay
    /// normal for every positive normal or subnormal x, where x/2 would round.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> NewtonStep(Vector256<double> y, Vector256<double> x) =>
        Vector256.FusedMultiplyAdd(y * 0.5, Vector256.FusedMultiplyAdd(-(x * y), y, Vector256.Create(1.0)), y);

    /// <summary>
    /// One Newton step towards 1/√x: y + (y/2)·(1 − (x·y)·y), the residual by a fused multiply-add. x·y (about √x) and y/2 stay
    /// normal for every positive normal or subnormal x, where x/2 would round.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> NewtonStep(Vector256<float> y, Vector256<float> x) =>
        Vector256.FusedMultiplyAdd(y * 0.5f, Vector256.FusedMultiplyAdd(-(x * y), y, Vector256.Create(1f)), y);

    /// <summary>Σ_{i ≤ 13} rⁱ/i! in Horner form (truncation below 0.1 ulp for |r| ≤ ln 2 / 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Taylor(Vector512<double> r)
    {
        var p = Vector512.Create(1.0 / 6227020800.0);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 479001600.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 39916800.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 3628800.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 362880.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 40320.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 5040.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 720.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 120.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 24.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 6.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0));
        return p;
    }

    /// <summary>Σ_{i ≤ 7} rⁱ/i! in Horner form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Taylor(Vector512<float> r)
    {
        var p = Vector512.Create(1f / 5040f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 720f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f));
        return p;
    }

    /// <summary>Σ_{i ≤ 13} rⁱ/i! in Horner form (truncation below 0.1 ulp for |r| ≤ ln 2 / 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Taylor(Vector256<double> r)
    {
        var p = Vector256.Create(1.0 / 6227020800.0);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 479001600.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 39916800.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 3628800.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 362880.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 40320.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 5040.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 720.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 120.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 24.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 6.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0));
        return p;
    }

    /// <summary>Σ_{i ≤ 7} rⁱ/i! in Horner form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Taylor(Vector256<float> r)
    {
        var p = Vector256.Create(1f / 5040f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 720f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 120f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f));
        return p;
    }

    /// <summary>2^k for k integral, −1022 ≤ k ≤ 1023, in the exponent bits (the shifter's bits shift out).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> PowerOfTwo(Vector512<double> k) =>
        Vector512.ShiftLeft((k + Vector512.Create(Shifter)).AsInt64() + Vector512.Create(1023L), 52).AsDouble();

    /// <summary>2^k for k integral, −126 ≤ k ≤ 127.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PowerOfTwo(Vector512<float> k) =>
        Vector512.ShiftLeft((k + Vector512.Create(ShifterF)).AsInt32() + Vector512.Create(127), 23).AsSingle();

    /// <summary>2^k for k integral, −1022 ≤ k ≤ 1023.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> PowerOfTwo(Vector256<double> k) =>
        Vector256.ShiftLeft((k + Vector256.Create(Shifter)).AsInt64() + Vector256.Create(1023L), 52).AsDouble();

    /// <summary>2^k for k integral, −126 ≤ k ≤ 127.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PowerOfTwo(Vector256<float> k) =>
        Vector256.ShiftLeft((k + Vector256.Create(ShifterF)).AsInt32() + Vector256.Create(127), 23).AsSingle();

    private const double Log2E = 1.4426950408889634;

    /// <summary>1.5·2^52: x + Shifter rounds x to an integer held in the low bits.</summary>
    private const double Shifter = 6755399441055744.0;

    /// <summary>ln 2 to 32 bits (k·Ln2High is exact for |k| &lt; 2^21) and the rest.</summary>
    private const double Ln2High = 0.6931471803691238, Ln2Low = 1.9082149292705877e-10;

    private const float Log2EF = 1.44269504f;

    /// <summary>1.5·2^23.</summary>
    private const float ShifterF = 12582912f;

    /// <summary>ln 2 to 16 bits (k·Ln2HighF is exact for |k| &lt; 2^8) and the rest.</summary>
    private const float Ln2HighF = 0.693145752f, Ln2LowF = 1.42860677e-6f;
}
