using System.Numerics;
using System.Numerics.Tensors;

namespace FeatureLearning.Compute;

/// <summary>
/// The shift that keeps radial kernel matrices exact for data far from the origin, and the check that refuses data whose
/// squared norms overflow. A radial kernel depends on ‖x − z‖_M only, but the fused kernel matrix forms it as
/// ‖x‖² + ‖z‖² − 2xᵀMz, which cancels catastrophically when ‖x‖ ≫ ‖x − z‖ (kernel ridge in double on x + 10⁷ predicted
/// with error 1.6; in float, x + 30 was already off by 0.16). Every backend therefore subtracts the mean of Z from both
/// X and Z before the GEMM: the distances are unchanged, the cancellation is gone.
/// </summary>
internal static class KernelCentring
{
    /// <summary>The column means of a row-major <paramref name="rows"/> × <paramref name="cols"/> matrix, summed in double.</summary>
    public static T[] ColumnMeans<T>(ReadOnlySpan<T> data, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sums = new double[cols];
        for (int i = 0; i < rows; i++)
        {
            var row = data.Slice(i * cols, cols);
            for (int j = 0; j < cols; j++)
            {
                sums[j] += double.CreateTruncating(row[j]);
            }
        }

        var means = new T[cols];
        for (int j = 0; j < cols; j++)
        {
            means[j] = T.CreateTruncating(sums[j] / Math.Max(rows, 1));
        }

        return means;
    }

    /// <summary>
    /// Whether the mean μ of Z is small next to the spread of both operands about it, in the metric's norm (the one the
    /// kernel matrix's ‖x‖² + ‖z‖² − 2xᵀMz cancels in): 2μᵀMμ ≤ mean zᵀMz (so μᵀMμ is at most the mean of
    /// (z − μ)ᵀM(z − μ)) and mean (x − μ)ᵀM(x − μ) ≥ μᵀMμ. Then the uncentred squared norms are within a small factor of the
    /// centred ones on average, and the distances lose no more to cancellation than in the centred form; the CPU kernel
    /// matrix leaves such sparse data uncentred so that it stays sparse.
    /// </summary>
    /// <param name="x">The pattern of X (n × d).</param>
    /// <param name="z">The pattern of Z (m × d).</param>
    /// <param name="metric">M: d × d, its diagonal (d values), or empty for the identity.</param>
    /// <param name="d">Columns.</param>
    public static bool MeanIsSmall<T>(SparseRows<T> x, SparseRows<T> z, ReadOnlySpan<T> metric, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mu = z.ColumnMeans(d);
        var xBar = x.ColumnMeans(d);
        double muMu = Quadratic(mu, mu, metric, d), xMu = Quadratic(xBar, mu, metric, d);
        return 2 * muMu <= z.MeanQuadratic(metric, d) && x.MeanQuadratic(metric, d) - (2 * xMu) >= 0;
    }

    /// <summary>uᵀMv for M given as in <see cref="MeanIsSmall{T}"/>.</summary>
    internal static double Quadratic<T>(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<T> metric, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int a = 0; a < d; a++)
        {
            for (int b = 0; u[a] != 0 && b < d; b++)
            {
                sum += u[a] * MetricEntry(metric, d, a, b) * v[b];
            }
        }

        return sum;
    }

    /// <summary>M[a, b] for M given as d × d, as its diagonal (d values), or empty for the identity.</summary>
    internal static double MetricEntry<T>(ReadOnlySpan<T> metric, int d, int a, int b)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        metric.Length == d * d && d > 1 ? double.CreateTruncating(metric[(a * d) + b])
        : a != b ? 0
        : metric.Length == 0 ? 1 : double.CreateTruncating(metric[a]);

    /// <summary>Each row of <paramref name="data"/> minus <paramref name="centre"/>, into <paramref name="destination"/>.</summary>
    public static void Subtract<T>(ReadOnlySpan<T> data, ReadOnlySpan<T> centre, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = centre.Length;
        for (int i = 0; i < data.Length; i += cols)
        {
            TensorPrimitives.Subtract(data.Slice(i, cols), centre, destination.Slice(i, cols));
        }
    }

    /// <summary>
    /// Throws when a squared Mahalanobis norm of the centred data is not finite or so large that ‖x‖² + ‖z‖² − 2xᵀMz can
    /// overflow: the kernel matrix would silently be wrong (x × 10³⁰⁰ predicted a constant).
    /// </summary>
    /// <param name="squaredNorms">x_iᵀMx_i of the centred rows.</param>
    /// <param name="name">The argument the rows came from.</param>
    public static void CheckNorms<T>(ReadOnlySpan<T> squaredNorms, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T limit = T.CreateTruncating(typeof(T) == typeof(float) ? float.MaxValue / 4 : double.MaxValue / 4);
        for (int i = 0; i < squaredNorms.Length; i++)
        {
            T v = squaredNorms[i];
            if (T.IsNaN(v))
            {
                throw new ArgumentException($"Row {i} of {name} gives a NaN squared norm: the inputs or the metric contain NaN.", name);
            }

            if (!(v <= limit))
            {
                throw new ArgumentException(
                    $"Row {i} of {name} is too far from the data's mean for {typeof(T).Name} precision: its squared Mahalanobis norm after centring is " +
                    $"{double.CreateTruncating(v):G3}, and squared distances of that size overflow. Rescale the inputs (and the kernel bandwidth with them).",
                    name);
            }
        }
    }
}
