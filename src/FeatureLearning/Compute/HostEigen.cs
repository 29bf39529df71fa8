using System.Numerics;

namespace FeatureLearning.Compute;

/// <summary>The symmetric eigendecomposition on the host (<see cref="SymmetricEigenSolver"/>), for backends without their own.</summary>
internal static class HostEigen
{
    /// <summary>
    /// The whole operation for a backend without its own solver: downloads A, decomposes it on the host and uploads the
    /// eigenvalues and eigenvectors (the arguments already checked; any of them may be a strided view).
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="backend">The backend.</param>
    /// <param name="a">The symmetric n × n matrix.</param>
    /// <param name="eigenvalues">n values, ascending.</param>
    /// <param name="eigenvectors">n × n; column j belongs to value j.</param>
    public static void Run<T>(IComputeBackend backend, DeviceBuffer<T> a, DeviceBuffer<T> eigenvalues, DeviceBuffer<T> eigenvectors)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = a.Rows;
        var host = new T[n * n];
        backend.Download(a, host);
        var (values, vectors) = Decompose<T>(host, n);
        backend.Upload<T>(values.Select(T.CreateTruncating).ToArray(), eigenvalues);
        backend.Upload<T>(vectors.Select(T.CreateTruncating).ToArray(), eigenvectors);
    }

    /// <summary>Decomposes a symmetric row-major n × n matrix.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="a">The matrix.</param>
    /// <param name="n">Its order.</param>
    /// <returns>The eigenvalues in ascending order and the row-major eigenvector matrix (column j belongs to value j).</returns>
    public static (double[] Values, double[] Vectors) Decompose<T>(ReadOnlySpan<T> a, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = new double[n * n];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = double.CreateTruncating(a[i]);
        }

        return SymmetricEigenSolver.Decompose(data, n);
    }
}
