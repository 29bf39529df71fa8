using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// <see cref="CpuBackend.KernelProduct{T, TKernel}"/>, F = K(X, Z)·α tile by tile without storing K, against the kernel matrix
/// of the same backend (tested pair by pair in <see cref="CpuKernelTileTests"/>) multiplied by α on the host in double
/// precision, on sizes that span several row blocks (128 rows) and column tiles (256 columns in double, 512 in single), for
/// every kernel geometry and metric, dense and one-hot inputs (the sparse tiles), with one thread and with all.
/// </summary>
public sealed class CpuKernelProductTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string kernel in new[] { "laplace", "gaussian", "genlaplace", "polynomial", "normgaussian" })
        {
            foreach (string metric in new[] { "identity", "diagonal", "full" })
            {
                foreach (string inputs in new[] { "dense", "onehot" })
                {
                    data.Add(kernel, metric, inputs);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProductEqualsTheKernelMatrixTimesAlpha(string kernelName, string metricName, string inputs)
    {
        foreach (int threads in new[] { 0, 1 })
        {
            using var backend = new ManagedBackend(threads);
            Check<double>(backend, kernelName, metricName, inputs, 1e-12);
            Check<float>(backend, kernelName, metricName, inputs, 1e-5);
        }
    }

    /// <summary>Strided X (a column range of a wider buffer) takes the kernel matrix and the GEMM in blocks of rows instead.</summary>
    [Fact]
    public void StridedInputsGiveTheSameProduct()
    {
        const int n = 150, m = 300, d = 5, c = 3;
        using var backend = new ManagedBackend();
        var kernel = new GaussianKernel(1.5);
        var wide = Random(n, d + 2, 51);
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            wide.AsSpan((i * (d + 2)) + 1, d).CopyTo(x.AsSpan(i * d, d));
        }

        var z = Random(m, d, 52);
        var alpha = Random(m, c, 53);
        using var wideB = backend.Upload<double>(wide, n, d + 2);
        using var xView = wideB.ColumnRange(1, d);
        using var xb = backend.Upload<double>(x, n, d);
        using var zb = backend.Upload<double>(z, m, d);
        using var ab = backend.Upload<double>(alpha, m, c);
        using var strided = backend.Allocate<double>(n, c);
        using var contiguous = backend.Allocate<double>(n, c);
        backend.KernelProduct(kernel, xView, zb, null, ab, strided);
        backend.KernelProduct(kernel, xb, zb, null, ab, contiguous);
        RelativeError(Download(backend, strided), Download(backend, contiguous)).Should().BeLessThan(1e-12);
    }

    [Fact]
    public void MismatchedShapesAreRejected()
    {
        using var backend = new ManagedBackend();
        using var x = backend.Allocate<double>(4, 3);
        using var z = backend.Allocate<double>(5, 3);
        using var alpha = backend.Allocate<double>(5, 2);
        using var wrong = backend.Allocate<double>(4, 3);
        using var badMetric = backend.Allocate<double>(2, 2);
        using var result = backend.Allocate<double>(4, 2);
        var kernel = new GaussianKernel(1.0);
        FluentActions.Invoking(() => backend.KernelProduct(kernel, x, z, null, alpha, wrong)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("result");
        FluentActions.Invoking(() => backend.KernelProduct(kernel, x, z, badMetric, alpha, result)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("metric");
        FluentActions.Invoking(() => backend.KernelProduct(kernel, x, z, null, alpha, alpha)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("result");
    }

    private static void Check<T>(ManagedBackend backend, string kernelName, string metricName, string inputs, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 300, m = 700, c = 7;
        int d = inputs == "onehot" ? 12 : 5;
        var kernel = BackendConformanceTests.MakeKernel(kernelName);
        var metric = BackendConformanceTests.MakeMetric(metricName, d);
        var x = Cast<T>(inputs == "onehot" ? OneHotPairs(n, d, 61) : Random(n, d, 61));
        var z = Cast<T>(inputs == "onehot" ? OneHotPairs(m, d, 62) : Random(m, d, 62));
        var alpha = Cast<T>(Random(m, c, 63));
        using var xb = backend.Upload<T>(x, n, d);
        using var zb = backend.Upload<T>(z, m, d);
        using var mb = metric.Upload<T>(backend);
        using var ab = backend.Upload<T>(alpha, m, c);
        using var kb = backend.Allocate<T>(n, m);
        using var fb = backend.Allocate<T>(n, c);
        backend.KernelMatrix(kernel, xb, zb, mb, kb);
        backend.KernelProduct(kernel, xb, zb, mb, ab, fb);
        var expected = Gemm(false, false, n, c, m, 1.0, Download(backend, kb), m, ToDouble(alpha), c, 0.0, new double[n * c]);
        RelativeError(Download(backend, fb), expected).Should().BeLessThan(tolerance, $"{kernelName}, {metricName} metric, {inputs} inputs, {typeof(T).Name}");
    }

    /// <summary>Rows with one 1 in each half of the d columns (the modular-arithmetic encoding), the rest 0.</summary>
    private static double[] OneHotPairs(int rows, int d, int seed)
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
