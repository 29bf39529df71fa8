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
    /// <param name="k">K, n × n; overwritten by the Cholesky factor of K + (λ + jitter)I.</param>
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

        var report = be.CholeskyFactor(k, cholesky, cancellationToken);
        if (report.JitterAdded)
        {
            jitterAdded(report);
        }

        be.Upload(y, alpha);
        be.CholeskySolve(k, alpha);
        be.Download(alpha, alphaHost);
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<T>(alphaHost))
        {
            throw new ArithmeticException(nonFiniteMessage);
        }

        return (report, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
    }
}
