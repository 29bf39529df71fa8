using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.Tests;

/// <summary>Seeded random data and naive double-precision reference computations.</summary>
internal static class TestMatrices
{
    public static double[] Random(int rows, int cols, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        var a = new double[rows * cols];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = scale * ((2 * rng.NextDouble()) - 1);
        }

        return a;
    }

    /// <summary>A random SPD matrix G Gᵀ + shift·I (row-major, exactly symmetric).</summary>
    public static double[] Spd(int n, int seed, double shift)
    {
        var g = Random(n, n, seed);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += g[(i * n) + k] * g[(j * n) + k];
                }

                a[(i * n) + j] = a[(j * n) + i] = s / n;
            }

            a[(i * n) + i] += shift;
        }

        return a;
    }

    public static T[] Cast<T>(double[] a)
        where T : unmanaged, IFloatingPointIeee754<T> => a.Select(T.CreateTruncating).ToArray();

    public static double[] ToDouble<T>(T[] a)
        where T : unmanaged, IFloatingPointIeee754<T> => a.Select(double.CreateTruncating).ToArray();

    /// <summary>C = α op(A) op(B) + β C, naively in double.</summary>
    public static double[] Gemm(bool ta, bool tb, int m, int n, int k, double alpha, double[] a, int lda, double[] b, int ldb, double beta, double[] c)
    {
        var r = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = ta ? a[(p * lda) + i] : a[(i * lda) + p];
                    double bv = tb ? b[(j * ldb) + p] : b[(p * ldb) + j];
                    s += av * bv;
                }

                r[(i * n) + j] = (alpha * s) + (beta == 0 ? 0 : beta * c[(i * n) + j]);
            }
        }

        return r;
    }

    public static double[] Download<T>(IComputeBackend backend, DeviceBuffer<T> buffer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var host = new T[buffer.Length];
        backend.Download(buffer, host);
        return ToDouble(host);
    }

    /// <summary>max |actual − expected| / max(max |expected|, tiny).</summary>
    public static double RelativeError(double[] actual, double[] expected)
    {
        actual.Length.Should().Be(expected.Length);
        double err = 0, scale = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            err = Math.Max(err, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }

        return err / Math.Max(scale, 1e-300);
    }

    public static double Tolerance<T>() => typeof(T) == typeof(float) ? 1e-4 : 1e-10;
}
