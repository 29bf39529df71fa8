using System.Numerics;
using FeatureLearning.Compute;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// <see cref="CpuBackend.KernelProduct{T, TKernel}"/> against the kernel matrix of the same backend (tested pair by pair in
/// <c>CpuKernelTileTests</c> and the conformance suite) multiplied by α on the host in double precision; shared by the managed
/// backend's tests and the native backend's.
/// </summary>
internal static class KernelProductCheck
{
    /// <summary>F = K(X, Z)·α for an n × d X and an m × d Z (Z = X with <paramref name="same"/>), c = 7 outputs.</summary>
    public static void Check<T>(CpuBackend backend, string kernelName, string metricName, string inputs, double tolerance, int n = 300, int m = 700, bool same = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int c = 7;
        int d = inputs == "onehot" ? 12 : 5;
        if (same)
        {
            m = n;
        }

        var kernel = BackendConformanceTests.MakeKernel(kernelName);
        // A non-symmetric metric (x_iᵀMz_j ≠ z_jᵀMx_i) goes to the backend as a raw d × d buffer: Metric refuses it.
        bool raw = metricName == "nonsymmetric";
        var x = Cast<T>(inputs == "onehot" ? OneHotPairs(n, d, 61) : Random(n, d, 61));
        var z = same ? x : Cast<T>(inputs == "onehot" ? OneHotPairs(m, d, 62) : Random(m, d, 62));
        var alpha = Cast<T>(Random(m, c, 63));
        using var xb = backend.Upload<T>(x, n, d);
        using var zb = same ? xb : backend.Upload<T>(z, m, d);
        using var mb = raw ? backend.Upload<T>(Cast<T>(Random(d, d, 64)), d, d) : BackendConformanceTests.MakeMetric(metricName, d).Upload<T>(backend);
        using var ab = backend.Upload<T>(alpha, m, c);
        using var kb = backend.Allocate<T>(n, m);
        using var fb = backend.Allocate<T>(n, c);
        backend.KernelMatrix(kernel, xb, zb, mb, kb);
        backend.KernelProduct(kernel, xb, zb, mb, ab, fb);
        var expected = Gemm(false, false, n, c, m, 1.0, Download(backend, kb), m, ToDouble(alpha), c, 0.0, new double[n * c]);
        RelativeError(Download(backend, fb), expected).Should().BeLessThan(
            tolerance, $"{kernelName}, {metricName} metric, {inputs} inputs, {typeof(T).Name}, {n} x {m}{(same ? ", Z = X" : string.Empty)}");
    }

    /// <summary>Rows with one 1 in each half of the d columns (the modular-arithmetic encoding), the rest 0.</summary>
    public static double[] OneHotPairs(int rows, int d, int seed)
    {
        var rnd = new Random(seed);
        var data = new double[rows * d];
        for (int i = 0; i < rows; i++)
        {
            data[(i * d) + rnd.Next(d / 2)] = 1;
            data[(i * d) + (d / 2) + rnd.Next(d / 2)] = 1;
        }

        return data;
    }
}
