using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.Compute.KernelProductCheck;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// <see cref="CpuBackend.KernelProduct{T, TKernel}"/>, F = K(X, Z)·α tile by tile without storing K, on the managed backend
/// (<see cref="KernelProductCheck"/>): sizes that span several row blocks (128 rows) and column tiles (256 columns in double,
/// 512 in single), every kernel geometry and metric, dense and one-hot inputs (the sparse tiles), one thread and two (so the
/// tiles run whatever the machine's processor count); then the paths that form the kernel matrix instead (strided inputs,
/// fewer row blocks than threads, several blocks of rows), Z = X, and the argument checks.
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

        data.Add("polynomial", "nonsymmetric", "dense");
        data.Add("gaussian", "nonsymmetric", "onehot");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProductEqualsTheKernelMatrixTimesAlpha(string kernelName, string metricName, string inputs)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            using var backend = new ManagedBackend(threads);
            Check<double>(backend, kernelName, metricName, inputs, 1e-12);
            Check<float>(backend, kernelName, metricName, inputs, 1e-5);
        }
    }

    /// <summary>Z = X (one buffer: the shared norms and centring), and shapes smaller than a tile in both directions.</summary>
    [Theory]
    [InlineData("gaussian", "full", "dense")]
    [InlineData("laplace", "identity", "onehot")]
    [InlineData("normgaussian", "diagonal", "dense")]
    public void SameOperandsAndSmallShapesGiveTheSameProduct(string kernelName, string metricName, string inputs)
    {
        using var one = new ManagedBackend(1);
        using var two = new ManagedBackend(2);
        Check<double>(one, kernelName, metricName, inputs, 1e-12, n: 300, same: true);
        Check<double>(two, kernelName, metricName, inputs, 1e-12, n: 300, same: true);

        // 50 rows and 100 columns: one partial tile (tiles with one thread; the kernel matrix and the GEMM with two).
        Check<double>(one, kernelName, metricName, inputs, 1e-12, n: 50, m: 100);
        Check<double>(two, kernelName, metricName, inputs, 1e-12, n: 50, m: 100);
        Check<float>(two, kernelName, metricName, inputs, 1e-5, n: 50, m: 100);
    }

    /// <summary>Where the product forms the kernel matrix, it does so a block of rows at a time: several blocks here.</summary>
    [Fact]
    public void TheKernelMatrixPathGivesTheSameProductInSeveralBlocks()
    {
        using var two = new ManagedBackend(2);
        CpuBackend.KernelProductBlockElements = 700 * 40;
        try
        {
            // 50 rows (fewer row blocks than threads) in blocks of 40 rows.
            Check<double>(two, "gaussian", "full", "dense", 1e-12, n: 50, m: 700);
            Check<float>(two, "laplace", "diagonal", "onehot", 1e-5, n: 50, m: 700);
        }
        finally
        {
            CpuBackend.KernelProductBlockElements = 0;
        }
    }

    /// <summary>Strided X (a column range of a wider buffer) takes the kernel matrix and the GEMM in blocks of rows instead.</summary>
    [Fact]
    public void StridedInputsGiveTheSameProduct()
    {
        const int n = 300, m = 300, d = 5, c = 3;
        using var backend = new ManagedBackend(2);
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
    public void EmptyOperandsGiveAZeroOrEmptyResult()
    {
        using var backend = new ManagedBackend();
        var kernel = new GaussianKernel(1.0);
        using var x = backend.Upload<double>(Random(4, 3, 71), 4, 3);
        using var noCentres = backend.Allocate<double>(0, 3);
        using var noAlpha = backend.Allocate<double>(0, 2);
        using var result = backend.Upload<double>(Enumerable.Repeat(double.NaN, 8).ToArray(), 4, 2);
        backend.KernelProduct(kernel, x, noCentres, null, noAlpha, result);
        Download(backend, result).Should().AllSatisfy(v => v.Should().Be(0), "an empty sum is 0, and the NaNs there before are overwritten");

        using var noRows = backend.Allocate<double>(0, 3);
        using var z = backend.Upload<double>(Random(5, 3, 72), 5, 3);
        using var alpha = backend.Upload<double>(Random(5, 2, 73), 5, 2);
        using var empty = backend.Allocate<double>(0, 2);
        backend.KernelProduct(kernel, noRows, z, null, alpha, empty);
        empty.Rows.Should().Be(0);
    }

    [Fact]
    public void MismatchedShapesAndAliasesAreRejected()
    {
        using var backend = new ManagedBackend();
        using var x = backend.Allocate<double>(4, 3);
        using var z = backend.Allocate<double>(5, 3);
        using var zWide = backend.Allocate<double>(5, 4);
        using var alpha = backend.Allocate<double>(5, 2);
        using var shortAlpha = backend.Allocate<double>(4, 2);
        using var wrong = backend.Allocate<double>(4, 3);
        using var badMetric = backend.Allocate<double>(2, 2);
        using var result = backend.Allocate<double>(4, 2);
        using var x5 = backend.Allocate<double>(5, 3);
        var kernel = new GaussianKernel(1.0);
        FluentActions.Invoking(() => backend.KernelProduct(kernel, x, zWide, null, alpha, result)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("z");
        FluentActions.Invoking(() => backend.KernelProduct(kernel, x, z, null, shortAlpha, result)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("alpha");
        FluentActions.Invoking(() => backend.KernelProduct(kernel, x, z, null, alpha, wrong)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("result");
        FluentActions.Invoking(() => backend.KernelProduct(kernel, x, z, badMetric, alpha, result)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("metric");

        // The shapes fit (X is 5 × 3, α 5 × 2, the result 5 × 2), so only the alias is wrong.
        FluentActions.Invoking(() => backend.KernelProduct(kernel, x5, z, null, alpha, alpha)).Should().Throw<ArgumentException>()
            .WithMessage("*alias*").Which.ParamName.Should().Be("result");
    }
}
