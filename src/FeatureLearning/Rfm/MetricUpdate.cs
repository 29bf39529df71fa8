using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.Rfm;

/// <summary>The metric update shared by RFM and ConvRFM: M ← normalise(AGOP^p), full or diagonal.</summary>
internal static class MetricUpdate
{
    public static Metric Next(IComputeBackend be, double[] g, int d, bool diagonal, double power, MetricNormalization normalization, int t)
    {
        double[] m;
        if (diagonal)
        {
            m = new double[d];
            for (int i = 0; i < d; i++)
            {
                m[i] = Math.Pow(Math.Max(g[(i * d) + i], 0), power);
            }
        }
        else
        {
            m = power == 1.0 ? g : MatrixPower(be, g, d, power);
        }

        double scale = normalization switch
        {
            MetricNormalization.MaxEntry => m.Max(Math.Abs),
            MetricNormalization.Trace => (diagonal ? m.Sum() : Enumerable.Range(0, d).Sum(i => m[(i * d) + i])) / d,
            MetricNormalization.Frobenius => Math.Sqrt(m.Sum(v => v * v) / d),
            _ => 1.0,
        };
        if (!double.IsFinite(scale) || scale <= 0 || m.Any(v => !double.IsFinite(v)))
        {
            throw new ArithmeticException($"RFM round {t}: the AGOP is {(m.All(v => v == 0) ? "zero (the predictor is constant on the sample: check the bandwidth)" : "not finite")}.");
        }

        if (scale != 1.0)
        {
            for (int i = 0; i < m.Length; i++)
            {
                m[i] /= scale;
            }
        }

        return diagonal ? Metric.Diagonal(m) : Metric.FromSymmetric(m, d);
    }

    /// <summary>G^p of a symmetric d × d matrix (row-major) through its eigendecomposition, negative eigenvalues (rounding) taken as 0.</summary>
    public static double[] MatrixPower(IComputeBackend be, double[] g, int d, double power)
    {
        using var gb = be.Upload<double>(g, d, d);
        PowerInPlace(be, gb, power);
        var result = new double[d * d];
        be.Download(gb, result);
        return result;
    }

    /// <summary>
    /// G ← G^p = V diag(max(λ, 0)^p) Vᵀ for a symmetric d × d device matrix, through the backend's symmetric
    /// eigendecomposition (only the d eigenvalues travel to the host and back).
    /// </summary>
    public static void PowerInPlace<T>(IComputeBackend be, DeviceBuffer<T> g, double power)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = g.Rows;
        using var values = be.Allocate<T>(d, 1);
        using var vectors = be.Allocate<T>(d, d);
        be.SymmetricEigen(g, values, vectors);
        var lambda = new T[d];
        be.Download(values, lambda);
        using var scaled = be.Allocate<T>(d, d);
        be.Copy(vectors, scaled);
        using var powered = be.Upload<T>(lambda.Select(l => T.CreateTruncating(Math.Pow(Math.Max(double.CreateTruncating(l), 0), power))).ToArray(), 1, d);
        be.ScaleColumns(scaled, powered);
        be.Gemm(Transpose.None, Transpose.Transpose, T.One, scaled, vectors, T.Zero, g);
    }
}
