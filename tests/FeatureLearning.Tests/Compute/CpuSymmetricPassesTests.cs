using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// The mixed-precision solve's passes over the lower triangle on CPU backends (<see cref="CpuBackend.ConvertLowerWithNorm{TSource, TDestination}"/>,
/// <see cref="CpuBackend.SymmetricMultiplyLower{T}"/>), against direct loops over the whole symmetric matrix, with NaN in the
/// upper triangle to show that it is never read.
/// </summary>
public class CpuSymmetricPassesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(9)]
    [InlineData(130)]
    [InlineData(1100)]
    public void ConvertLowerWithNormWritesTheLowerTriangleAndReturnsTheWholeNorm(int n)
    {
        var a = SymmetricWithNaNAbove(n, 40 + n);
        using var be = new ManagedBackend();
        using var source = be.Upload<double>(a, n, n);
        using var target = be.Upload<float>(Enumerable.Repeat(7f, n * n).ToArray(), n, n);
        double norm = be.ConvertLowerWithNorm(source, target);

        var t = new float[n * n];
        be.Download(target, t);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double v = i >= j ? a[(i * n) + j] : a[(j * n) + i];
                sum += v * v;
                t[(i * n) + j].Should().Be(i >= j ? (float)v : 7f, $"element ({i}, {j}) of {n} x {n}");
            }
        }

        norm.Should().BeApproximately(Math.Sqrt(sum), 1e-13 * Math.Sqrt(sum));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(9, 1)]
    [InlineData(600, 1)]
    [InlineData(1100, 10)]
    public void SymmetricMultiplyLowerEqualsTheProductWithTheWholeMatrix(int n, int c)
    {
        // Sizes below the part count (empty parts), one part per few rows, and rows longer than a column block (1024, with
        // several columns).
        var a = SymmetricWithNaNAbove(n, n + c);
        var x = Random(n, c, 3 * n);
        var y0 = Random(n, c, (5 * n) + 1);
        const double alpha = -0.75, beta = 1.5;
        var expected = new double[n * c];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < c; k++)
            {
                double s = 0;
                for (int j = 0; j < n; j++)
                {
                    s += (i >= j ? a[(i * n) + j] : a[(j * n) + i]) * x[(j * c) + k];
                }

                expected[(i * c) + k] = (beta * y0[(i * c) + k]) + (alpha * s);
            }
        }

        double[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var be = new ManagedBackend(threads);
            using var ab = be.Upload<double>(a, n, n);
            using var xb = be.Upload<double>(x, n, c);
            using var yb = be.Upload<double>(y0, n, c);
            be.SymmetricMultiplyLower(alpha, ab, xb, beta, yb);
            var actual = Download(be, yb);
            RelativeError(actual, expected).Should().BeLessThan(1e-13, $"{threads} thread(s)");

            // The sums' order is fixed by the parts, not by the threads: the same bits on any thread count.
            first ??= actual;
            actual.Should().Equal(first, $"{threads} thread(s) against 1");
        }
    }

    [Fact]
    public void ConvertLowerWithNormSumsSinglePrecisionSquaresInDouble()
    {
        // Squares of 1e20 overflow single precision: the norm must still be the finite double value, and the triangle exact.
        const int n = 3;
        var a = new float[] { 1e20f, float.NaN, float.NaN, 2e20f, 3e20f, float.NaN, 1f, 2f, 3f };
        using var be = new ManagedBackend();
        using var source = be.Upload<float>(a, n, n);
        using var target = be.Allocate<double>(n, n);
        double norm = be.ConvertLowerWithNorm(source, target);
        double e = Math.Sqrt((1e40 * (1 + 9)) + (2 * 4e40) + (2 * (1 + 4)) + 9);
        norm.Should().BeApproximately(e, 1e-6 * e);
        Download(be, target)[3].Should().Be((double)2e20f);
    }

    [Fact]
    public void SymmetricMultiplyLowerReadsViewsAndRefusesMismatchedShapes()
    {
        const int n = 7, c = 2;
        var big = Random(n + 2, n + 3, 11);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                big[((i + 1) * (n + 3)) + j + 2] = big[((j + 1) * (n + 3)) + i + 2];
            }
        }

        using var be = new ManagedBackend();
        using var whole = be.Upload<double>(big, n + 2, n + 3);
        using var a = whole.Slice(1, n, 2, n);
        var x = Random(n, c, 12);
        using var xb = be.Upload<double>(x, n, c);
        using var yb = be.Allocate<double>(n, c);
        be.SymmetricMultiplyLower(1.0, a, xb, 0.0, yb);
        using var yg = be.Allocate<double>(n, c);
        be.Gemm(Transpose.None, Transpose.None, 1.0, a, xb, 0.0, yg);
        RelativeError(Download(be, yb), Download(be, yg)).Should().BeLessThan(1e-14);

        using var wrong = be.Allocate<double>(n + 1, c);
        var act = () => be.SymmetricMultiplyLower(1.0, a, xb, 0.0, wrong);
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void MixedPrecisionSolveOfOneRightHandSideOnACpuBackendReadsOnlyTheLowerTriangle()
    {
        // K + λI with NaN above the diagonal: the double factorization reads the lower triangle alone, and so must the mixed
        // solve of one right-hand side (conversion, norm, residuals), which still reaches the double solve's answer.
        const int n = 300, c = 1;
        var x = Random(n, 4, 23);
        using var be = new ManagedBackend();
        using var xb = be.Upload<double>(x, n, 4);
        using var kb = be.Allocate<double>(n, n);
        be.KernelMatrix(new LaplaceKernel(1.0), xb, xb, null, kb);
        var k = Download(be, kb);
        for (int i = 0; i < n; i++)
        {
            k[(i * n) + i] += 1e-5;
        }

        var y = Random(n, c, 24);
        var expected = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, n, k)
            .Solve(MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, c, y)).ToRowMajorArray();
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                k[(i * n) + j] = double.NaN;
            }
        }

        using var system = be.Upload<double>(k, n, n);
        using var alpha = be.Allocate<double>(n, c);
        var host = new double[n * c];
        var (report, _) = RidgeSolve.Solve<double>(
            be, system, 0, new CholeskyOptions { MixedPrecision = MixedPrecision.On }, y, alpha, host, _ => { }, "non-finite", default);

        report.RefinementSteps.Should().BeInRange(1, RidgeSolve.MaxRefinementSteps);
        RelativeError(host, expected).Should().BeLessThan(1e-10);
    }

    /// <summary>A seeded symmetric n × n matrix (row-major) whose strictly upper triangle is NaN.</summary>
    private static double[] SymmetricWithNaNAbove(int n, int seed)
    {
        var a = Random(n, n, seed, 10.0);
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                a[(i * n) + j] = double.NaN;
            }
        }

        return a;
    }
}
