using FeatureLearning.Networks;
using ILGPU;

namespace FeatureLearning.Backends.Ilgpu.Device;

/// <summary>
/// The device side of <see cref="FeatureLearning.Compute.IComputeBackend.ApplyActivation{T}"/>: φ, φ′ or φ″ of a network
/// activation, elementwise, evaluated in double precision and rounded to the element type.
/// </summary>
/// <remarks>
/// erf (and so GELU, through Φ(x) = ½(1 + erf(x/√2))) has no device intrinsic: it is the everywhere-positive series
/// erf(x) = (2/√π)·e^(−x²)·Σₙ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) for |x| &lt; 6 (at most 200 terms, no cancellation) and ±1 beyond
/// (1 − erf(6) ≈ 2e-17). Its error is about 1e-14 absolute in double, against the host's MathNet erf; in float the rounding
/// to float dominates. exp and tanh are the accelerator's (LibDevice on CUDA when found, ILGPU.Algorithms otherwise,
/// .NET's on the CPU accelerator).
/// </remarks>
internal static class ActivationKernel
{
    private const double TwoOverSqrtPi = 1.12837916709551257390; // 2/√π
    private const double InvSqrt2 = 0.70710678118654752440; // 1/√2
    private const double InvSqrt2Pi = 0.39894228040143267794; // 1/√(2π)

    /// <summary>y_i ← φ^(order)(x_i) for i = start, start + stride, … &lt; length.</summary>
    public static void Apply<T, TOps>(Index1D start, ArrayView<T> x, ArrayView<T> y, int cols, int ldx, int ldy, int kind, double slope, int order, long length, int stride)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        for (long e = start.X; e < length; e += stride)
        {
            long i = e / cols, j = e % cols;
            y[(i * ldy) + j] = ops.FromDouble(Evaluate(kind, slope, order, ops.ToDouble(x[(i * ldx) + j])));
        }
    }

    /// <summary>φ^(order)(x) for the activation kind <paramref name="kind"/> (an <see cref="ActivationKind"/> as int).</summary>
    public static double Evaluate(int kind, double slope, int order, double x)
    {
        switch (kind)
        {
            case (int)ActivationKind.Relu:
                return order == 0 ? (x > 0 ? x : 0.0) : order == 1 ? (x > 0 ? 1.0 : 0.0) : 0.0;
            case (int)ActivationKind.LeakyRelu:
                return order == 0 ? (x >= 0 ? x : slope * x) : order == 1 ? (x > 0 ? 1.0 : slope) : 0.0;
            case (int)ActivationKind.Tanh:
                double t = Math.Tanh(x);
                return order == 0 ? t : order == 1 ? 1 - (t * t) : -2 * t * (1 - (t * t));
            case (int)ActivationKind.Erf:
                if (order == 0)
                {
                    return Erf(x);
                }

                double e = TwoOverSqrtPi * Math.Exp(-x * x);
                return order == 1 ? e : -2 * x * e;
            case (int)ActivationKind.Gelu:
                double pdf = InvSqrt2Pi * Math.Exp(-0.5 * x * x);
                if (order == 2)
                {
                    return pdf * (2 - (x * x));
                }

                double cdf = 0.5 * (1 + Erf(x * InvSqrt2));
                return order == 0 ? x * cdf : cdf + (x * pdf);
            case (int)ActivationKind.Quadratic:
                return order == 0 ? x * x : order == 1 ? 2 * x : 2.0;
            default: // linear
                // Double literals, not `order == 1 ? 1 : 0`: Roslyn compiles that to a comparison converted to double,
                // which ILGPU 1.5.3's PTX backend emits as a select of the integer bit patterns 1 and 0 into a double
                // register (φ′ came out as 4.9e-324 on an H100). BackendConformanceTests.ApplyActivation caught it.
                if (order == 0)
                {
                    return x;
                }

                return order == 1 ? 1.0 : 0.0;
        }
    }

    /// <summary>erf(x) by the positive series (|x| &lt; 6) or ±1.</summary>
    public static double Erf(double x)
    {
        double a = x < 0 ? -x : x;
        if (a >= 6)
        {
            return x < 0 ? -1.0 : 1.0;
        }

        double twoA2 = 2 * a * a, term = a, sum = a;
        for (int n = 1; n < 200; n++)
        {
            term *= twoA2 / ((2 * n) + 1);
            sum += term;
            if (term <= 1e-17 * sum)
            {
                break;
            }
        }

        double r = TwoOverSqrtPi * Math.Exp(-a * a) * sum;
        return x < 0 ? -r : r;
    }
}
