using System.Runtime.Intrinsics;
using FeatureLearning.Kernels;

namespace FeatureLearning.Tests.Kernels;

/// <summary>
/// The kernels' vector exponential and inverse square root (<see cref="SimdExp"/>) against the runtime's scalar
/// <see cref="Math.Exp"/> / <see cref="MathF.Exp"/> and <see cref="Math.Sqrt"/>: over the whole range of arguments, the
/// subnormal results, the overflow threshold and the special values, on both vector widths the machine runs.
/// </summary>
public sealed class SimdExpTests
{
    /// <summary>Distance in units of the last place of <paramref name="expected"/> (at least the smallest subnormal).</summary>
    private static double Ulps(double actual, double expected)
    {
        if (actual == expected || (double.IsNaN(actual) && double.IsNaN(expected)))
        {
            return 0;
        }

        double ulp = Math.Max(Math.Abs(Math.BitIncrement(Math.Abs(expected)) - Math.Abs(expected)), double.Epsilon);
        return Math.Abs(actual - expected) / ulp;
    }

    private static double Ulps(float actual, float expected)
    {
        if (actual == expected)
        {
            return 0;
        }

        float ulp = Math.Max(Math.Abs(MathF.BitIncrement(Math.Abs(expected)) - Math.Abs(expected)), float.Epsilon);
        return Math.Abs(actual - expected) / ulp;
    }

    /// <summary>
    /// Arguments across [lo, hi] (uniform), near 0 (where the kernels' arguments mostly lie), at the Cody–Waite boundaries
    /// (odd multiples of ln 2 / 2), at and beyond both ends of the finite range.
    /// </summary>
    private static double[] Arguments(double lo, double hi, int seed)
    {
        var rng = new Random(seed);
        var list = new List<double>();
        for (int i = 0; i < 200_000; i++)
        {
            list.Add(lo + ((hi - lo) * rng.NextDouble()));
            list.Add(-20 * rng.NextDouble());
        }

        for (int k = -60; k <= 60; k++)
        {
            double b = (k + 0.5) * Math.Log(2);
            list.AddRange([b, Math.BitDecrement(b), Math.BitIncrement(b)]);
        }

        list.AddRange([0.0, -0.0, 1e-300, -1e-300, 1.0, -1.0, lo, hi, Math.BitDecrement(lo), Math.BitIncrement(hi)]);
        return list.ToArray();
    }

    [Fact]
    public void DoubleExpIsWithinOneUlpOfMathExpOnBothWidths()
    {
        // −745.13 is where e^x rounds to the smallest subnormal; 709.78 the largest argument with a finite result.
        var args = Arguments(-745.2, 709.78, 1);
        double worst512 = 0, worst256 = 0;
        foreach (double x in args)
        {
            double expected = Math.Exp(x);
            if (Vector512.IsHardwareAccelerated)
            {
                worst512 = Math.Max(worst512, Ulps(SimdExp.Exp(Vector512.Create(x)).GetElement(3), expected));
            }

            worst256 = Math.Max(worst256, Ulps(SimdExp.Exp(Vector256.Create(x)).GetElement(1), expected));
        }

        worst256.Should().BeLessThanOrEqualTo(1.0);
        worst512.Should().BeLessThanOrEqualTo(1.0);
    }

    [Fact]
    public void SingleExpIsWithinOneUlpOfMathFExpOnBothWidths()
    {
        // −103.97 rounds to the smallest subnormal; 88.72 is the largest argument with a finite result.
        var args = Arguments(-104, 88.72, 2).Select(v => (float)v).ToArray();
        double worst512 = 0, worst256 = 0;
        foreach (float x in args)
        {
            float expected = MathF.Exp(x);
            if (Vector512.IsHardwareAccelerated)
            {
                worst512 = Math.Max(worst512, Ulps(SimdExp.Exp(Vector512.Create(x)).GetElement(5), expected));
            }

            worst256 = Math.Max(worst256, Ulps(SimdExp.Exp(Vector256.Create(x)).GetElement(2), expected));
        }

        worst256.Should().BeLessThanOrEqualTo(1.0);
        worst512.Should().BeLessThanOrEqualTo(1.0);
    }

    [Fact]
    public void SpecialValuesGiveWhatMathExpGives()
    {
        double[] specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 710, 1000, -746, -1e6, double.MaxValue, double.MinValue];
        foreach (double x in specials)
        {
            SimdExp.Exp(Vector256.Create(x)).GetElement(0).Should().Be(Math.Exp(x), $"e^{x} (double, 256 bits)");
            SimdExp.Exp(Vector512.Create(x)).GetElement(0).Should().Be(Math.Exp(x), $"e^{x} (double, 512 bits)");
            float f = (float)x;
            SimdExp.Exp(Vector256.Create(f)).GetElement(0).Should().Be(MathF.Exp(f), $"e^{f} (single, 256 bits)");
            SimdExp.Exp(Vector512.Create(f)).GetElement(0).Should().Be(MathF.Exp(f), $"e^{f} (single, 512 bits)");
        }

        // A vector of mixed lanes: each lane on its own.
        var mixed = Vector512.Create(0.0, double.NaN, -800, 800, 1, -1, 700, -740);
        var result = SimdExp.Exp(mixed);
        for (int i = 0; i < 8; i++)
        {
            Ulps(result.GetElement(i), Math.Exp(mixed.GetElement(i))).Should().BeLessThanOrEqualTo(1.0, $"lane {i}");
        }
    }

    [Fact]
    public void InverseSqrtIsWithinTwoUlpsOnBothWidths()
    {
        var rng = new Random(3);
        double worstDouble = 0, worstSingle = 0;
        for (int i = 0; i < 200_000; i++)
        {
            // Over 2,000 binades in double, 230 in single (the estimate's error depends on the mantissa and the exponent's parity).
            double x = Math.Exp((rng.NextDouble() - 0.5) * 1380);
            worstDouble = Math.Max(worstDouble, InverseSqrtUlps(SimdExp.InverseSqrt(Vector256.Create(x)).GetElement(0), x));
            worstDouble = Math.Max(worstDouble, InverseSqrtUlps(SimdExp.InverseSqrt(Vector512.Create(x)).GetElement(0), x));
            float f = (float)Math.Exp((rng.NextDouble() - 0.5) * 160);
            float expectedF = (float)(1 / Math.Sqrt(f));
            worstSingle = Math.Max(worstSingle, Ulps(SimdExp.InverseSqrt(Vector256.Create(f)).GetElement(0), expectedF));
            worstSingle = Math.Max(worstSingle, Ulps(SimdExp.InverseSqrt(Vector512.Create(f)).GetElement(0), expectedF));
        }

        worstDouble.Should().BeLessThanOrEqualTo(2.0);
        worstSingle.Should().BeLessThanOrEqualTo(2.0);
    }

    /// <summary>
    /// |y − 1/√x| in ulps of 1/√x, the reference to about twice double precision: y₀ = 1/√x rounded, then the Newton
    /// correction y₀·ρ/2 with ρ = 1 − x·y₀² formed exactly enough by fused multiply-adds (y₀² as a sum of two doubles).
    /// </summary>
    private static double InverseSqrtUlps(double y, double x)
    {
        double y0 = 1 / Math.Sqrt(x);
        double square = y0 * y0, squareLow = Math.FusedMultiplyAdd(y0, y0, -square);
        double rho = Math.FusedMultiplyAdd(-x, square, 1) - (x * squareLow);
        double error = (y - y0) - (0.5 * y0 * rho);
        return Math.Abs(error) / (Math.BitIncrement(y0) - y0);
    }
}
