using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Compute;

/// <summary>The symmetric eigendecomposition on the host (MathNet.Numerics' managed solver), for backends without their own.</summary>
internal static class HostEigen
{
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

        var evd = Matrix<double>.Build.DenseOfRowMajor(n, n, data).Evd(Symmetricity.Symmetric);
        var raw = evd.EigenValues.Select(v => v.Real).ToArray();
        var order = Enumerable.Range(0, n).OrderBy(i => raw[i]).ToArray();
        var values = new double[n];
        var vectors = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            values[j] = raw[order[j]];
            for (int i = 0; i < n; i++)
            {
                vectors[(i * n) + j] = evd.EigenVectors[i, order[j]];
            }
        }

        return (values, vectors);
    }
}
