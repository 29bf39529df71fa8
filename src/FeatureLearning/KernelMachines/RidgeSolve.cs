using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.KernelMachines;

/// <summary>
/// The exact kernel ridge step every kernel estimator takes (kernel ridge, RFM, ConvRFM): add the ridge to K, factor
/// K + λI in place with the jitter retry of <see cref="CholeskyOptions"/>, solve for α and check that α is finite.
/// </summary>
internal static class RidgeSolve
{
    /// <summary>Solves (K + λI)α = Y through the backend, α on the device and on the host.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="be">The backend.</param>
    /// <param name="k">K, n × n; overwritten by the Cholesky factor of K + (λ + jitter)I, or, when a mixed-precision solve answered
    /// (<see cref="CholeskyReport.RefinementSteps"/> &gt; 0), left as K + λI.</param>
    /// <param name="ridge">λ ≥ 0.</param>
    /// <param name="cholesky">The jitter policy.</param>
    /// <param name="y">Y, n × c row-major, uploaded into <paramref name="alpha"/>.</param>
    /// <param name="alpha">The n × c destination of α on the device.</param>
    /// <param name="alphaHost">The n × c destination of α on the host.</param>
    /// <param name="jitterAdded">Called with the report when the factorization needed jitter (the caller logs it).</param>
    /// <param name="nonFiniteMessage">The message of the <see cref="ArithmeticException"/> thrown when α is not finite.</param>
    /// <param name="cancellationToken">Checked between the factorization's blocks.</param>
    /// <returns>The factorization's report (attempts and the jitter that succeeded) and the seconds the step took.</returns>
    /// <exception cref="MatrixNotPositiveDefiniteException">Every allowed attempt failed.</exception>
    /// <exception cref="ArithmeticException">α is not finite.</exception>
    public static (CholeskyReport Report, double Seconds) Solve<T>(
        IComputeBackend be, DeviceBuffer<T> k, double ridge, CholeskyOptions cholesky, ReadOnlySpan<T> y, DeviceBuffer<T> alpha, T[] alphaHost,
        Action<CholeskyReport> jitterAdded, string nonFiniteMessage, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (ridge > 0)
        {
            be.AddDiagonal(k, T.CreateTruncating(ridge));
        }

        bool fellBack = false;
        if (typeof(T) == typeof(double) && UseMixedPrecision(cholesky, k.Rows))
        {
            var refined = Refine(be, (DeviceBuffer<double>)(object)k, MemoryMarshalCast<T, double>(y), (DeviceBuffer<double>)(object)alpha, cancellationToken);
            if (refined > 0)
            {
                be.Download(alpha, alphaHost);
                CheckFinite<T>(alphaHost, nonFiniteMessage);
                return (new CholeskyReport(1, 0, -1) { RefinementSteps = refined }, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
            }

            fellBack = true;
        }

        var report = be.CholeskyFactor(k, cholesky, cancellationToken) with { RefinementFellBack = fellBack };
        if (report.JitterAdded)
        {
            jitterAdded(report);
        }

        be.Upload(y, alpha);
        be.CholeskySolve(k, alpha);
        be.Download(alpha, alphaHost);
        CheckFinite<T>(alphaHost, nonFiniteMessage);
        return (report, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>The most refinement steps before the mixed-precision solve gives up.</summary>
    internal const int MaxRefinementSteps = 12;

    /// <summary>Whether a double-precision solve of order <paramref name="n"/> takes the mixed-precision path.</summary>
    internal static bool UseMixedPrecision(CholeskyOptions options, int n) => options.MixedPrecision switch
    {
        MixedPrecision.On => true,
        MixedPrecision.Auto => n >= options.MixedPrecisionMinimumOrder,
        _ => false,
    };

    /// <summary>
    /// Solves (A)X = Y for the double-precision SPD matrix <paramref name="a"/> (left intact) by a single-precision Cholesky factor
    /// and iterative refinement with double-precision residuals (<see cref="MixedPrecision"/>). A CPU backend converts the lower
    /// triangle alone; A must be symmetric (the residuals of several right-hand sides, and every pass on other backends, read all of it).
    /// </summary>
    /// <returns>The refinement steps taken (≥ 1) with X in <paramref name="x"/>; 0 when the single-precision factorization failed or the
    /// refinement did not reach the accuracy of a double-precision solve (X is then undefined).</returns>
    internal static int Refine(IComputeBackend be, DeviceBuffer<double> a, ReadOnlySpan<double> y, DeviceBuffer<double> x, CancellationToken cancellationToken)
    {
        int n = a.Rows, c = x.Cols;

        // On a CPU backend the conversion and the norm are one pass over the lower triangle of A (what the factorization
        // reads), and the residual of one right-hand side is the symmetric product, which reads the lower triangle alone.
        var cpu = be as CpuBackend;
        using var factor = be.Allocate<float>(n, n);
        double normA = cpu is not null ? cpu.ConvertLowerWithNorm(a, factor) : Math.Sqrt(be.Dot(a, a));
        if (!double.IsFinite(normA))
        {
            return 0;
        }

        if (cpu is null)
        {
            be.Convert(a, factor);
        }

        try
        {
            be.CholeskyFactor(factor, CholeskyOptions.NoJitter, cancellationToken);
        }
        catch (MatrixNotPositiveDefiniteException)
        {
            return 0;
        }

        using var yb = be.Upload<double>(y, n, c);
        using var r = be.Allocate<double>(n, c);
        using var correction = be.Allocate<float>(n, c);
        be.Copy(yb, r);
        be.Scale(0.0, x);
        double scale = MaxAbs(y);
        var rHost = new double[n * c];
        var xHost = new double[n * c];
        var previous = new double[c];
        var residual = new double[c];
        var bound = new double[c];
        for (int step = 1; step <= MaxRefinementSteps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // X ← X + s·(LLᵀ)⁻¹(R/s) in single precision (s = max|R|, so R/s neither underflows nor overflows in single
            // precision), then R ← Y − A·X in double.
            if (scale == 0)
            {
                return step;
            }

            be.Scale(1.0 / scale, r);
            be.Convert(r, correction);
            be.CholeskySolve(factor, correction);
            be.Convert(correction, r);
            be.Axpy(scale, r, x);
            be.Copy(yb, r);
            if (cpu is not null && c == 1)
            {
                // One right-hand side: the symmetric product reads half of A. With more columns its private sums of the rows
                // above each part outgrow the caches, and the GEMM, which reads A once for all of them, is faster.
                cpu.SymmetricMultiplyLower(-1.0, a, x, 1.0, r);
            }
            else
            {
                be.Gemm(Transpose.None, Transpose.None, -1.0, a, x, 1.0, r);
            }

            be.Download(r, rHost);
            be.Download(x, xHost);
            scale = MaxAbs(rHost);
            ColumnNorms(rHost, c, residual);
            ColumnNorms(xHost, c, bound);
            bool converged = true, stalled = false;
            for (int j = 0; j < c; j++)
            {
                if (!double.IsFinite(residual[j]) || !double.IsFinite(bound[j]))
                {
                    return 0;
                }

                double target = double.Epsilon + (Math.Sqrt(n) * Eps * normA * bound[j]);
                converged &= residual[j] <= target;
                stalled |= step > 1 && residual[j] > target && residual[j] > 0.5 * previous[j];
            }

            if (converged)
            {
                return step;
            }

            if (stalled)
            {
                // A column stopped converging above a double solve's level: the double factorization answers instead.
                return 0;
            }

            residual.CopyTo(previous, 0);
        }

        return 0;
    }

    /// <summary>The unit roundoff of double precision.</summary>
    private const double Eps = 1.1102230246251565e-16;

    private static double MaxAbs(ReadOnlySpan<double> values)
    {
        double max = 0;
        foreach (double v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return max;
    }

    private static void ColumnNorms(double[] m, int c, double[] norms)
    {
        Array.Clear(norms);
        for (int i = 0; i < m.Length; i++)
        {
            norms[i % c] += m[i] * m[i];
        }

        for (int j = 0; j < c; j++)
        {
            norms[j] = Math.Sqrt(norms[j]);
        }
    }

    private static ReadOnlySpan<TTo> MemoryMarshalCast<TFrom, TTo>(ReadOnlySpan<TFrom> span)
        where TFrom : struct
        where TTo : struct => System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(span);

    private static void CheckFinite<T>(T[] values, string message)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<T>(values))
        {
            throw new ArithmeticException(message);
        }
    }
}
