using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <content>Precision conversion and the mixed-precision ridge solve (single-precision factor, refined to double accuracy).</content>
public abstract partial class BackendConformanceTests
{
    [SkippableFact]
    public void ConvertRoundsToSingleAndWidensExactly()
    {
        const int rows = 7, cols = 13;
        var a = Random(rows, cols, 21, 1e3);
        using var source = Backend.Upload<double>(a, rows, cols);
        using var single = Backend.Allocate<float>(rows, cols);
        using var back = Backend.Allocate<double>(rows, cols);
        Backend.Convert(source, single);
        Backend.Convert(single, back);
        var s = new float[rows * cols];
        Backend.Download(single, s);
        s.Should().Equal(a.Select(v => (float)v), "double to single rounds to nearest, as a cast does");
        Download(Backend, back).Should().Equal(s.Select(v => (double)v), "single to double is exact");
    }

    [SkippableFact]
    public void ConvertReadsAndWritesStridedViews()
    {
        var a = Random(9, 11, 22);
        using var source = Backend.Upload<double>(a, 9, 11);
        using var target = Backend.Upload<float>(new float[8 * 10], 8, 10);
        Backend.Convert(source.Slice(2, 4, 3, 5), target.Slice(1, 4, 4, 5));
        var t = new float[80];
        Backend.Download(target, t);
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 10; j++)
            {
                float expected = i is >= 1 and < 5 && j is >= 4 and < 9 ? (float)a[((i + 1) * 11) + j - 1] : 0f;
                t[(i * 10) + j].Should().Be(expected, $"element ({i}, {j})");
            }
        }
    }

    [SkippableFact]
    public void ConvertRefusesDifferentShapes()
    {
        using var source = Backend.Allocate<double>(3, 4);
        using var target = Backend.Allocate<float>(4, 3);
        var act = () => Backend.Convert(source, target);
        act.Should().Throw<ArgumentException>().WithParameterName("destination");
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(4)]
    public void MixedPrecisionSolveEqualsTheDoubleSolve(int c)
    {
        // A Laplace kernel matrix with a small ridge: a single-precision solve alone is off by ~2e-6.
        const int n = 150;
        var k = KernelSystem(n, new LaplaceKernel(1.0), 1e-5);
        var y = Random(n, c, 24);
        var expected = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, n, k)
            .Solve(MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, c, y)).ToRowMajorArray();

        using var kb = Backend.Upload<double>(k, n, n);
        using var alpha = Backend.Allocate<double>(n, c);
        var options = new CholeskyOptions { MixedPrecision = MixedPrecision.On };
        var host = new double[n * c];
        var (report, _) = RidgeSolve.Solve<double>(Backend, kb, 0, options, y, alpha, host, _ => { }, "non-finite", default);

        report.RefinementSteps.Should().BeInRange(1, RidgeSolve.MaxRefinementSteps, "the single-precision factor produced the answer");
        report.RefinementFellBack.Should().BeFalse();
        RelativeError(host, expected).Should().BeLessThan(1e-10);

        // The single-precision factor alone is far from it: the refinement is what makes it double-accurate.
        var singleOnly = new float[n * c];
        using var kf = Backend.Upload<float>(Cast<float>(k), n, n);
        using var yf = Backend.Upload<float>(Cast<float>(y), n, c);
        Backend.CholeskyFactor(kf);
        Backend.CholeskySolve(kf, yf);
        Backend.Download(yf, singleOnly);
        RelativeError(ToDouble(singleOnly), expected).Should().BeGreaterThan(1e-7);
    }

    [SkippableFact]
    public void MixedPrecisionSolveFallsBackWhenSinglePrecisionCannotReachDoubleAccuracy()
    {
        // A wide Gaussian kernel with a ridge of 1e-9: positive definite in double (condition ~1e11), not in single.
        const int n = 120;
        var k = KernelSystem(n, new GaussianKernel(3.0), 1e-9);
        var y = Random(n, 2, 25);
        var expected = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, n, k)
            .Cholesky().Solve(MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, 2, y)).ToRowMajorArray();

        using var kb = Backend.Upload<double>(k, n, n);
        using var alpha = Backend.Allocate<double>(n, 2);
        var host = new double[n * 2];
        var (report, _) = RidgeSolve.Solve<double>(
            Backend, kb, 0, new CholeskyOptions { MixedPrecision = MixedPrecision.On, MaxRetries = 0 }, y, alpha, host, _ => { }, "non-finite", default);

        report.RefinementSteps.Should().Be(0);
        report.RefinementFellBack.Should().BeTrue();

        // The answer is the double factorization's: a solve that never tried single precision agrees to what κ ~ 1e11 allows
        // (a threaded BLAS rounds differently from one call to the next, so not bit for bit).
        using var kd = Backend.Upload<double>(k, n, n);
        using var alphaD = Backend.Allocate<double>(n, 2);
        var direct = new double[n * 2];
        RidgeSolve.Solve<double>(
            Backend, kd, 0, new CholeskyOptions { MixedPrecision = MixedPrecision.Off, MaxRetries = 0 }, y, alphaD, direct, _ => { }, "non-finite", default);
        RelativeError(host, direct).Should().BeLessThan(1e-4);
        RelativeError(host, expected).Should().BeLessThan(1e-4, "a condition number of ~1e11 leaves about five digits to any double solve");
    }

    /// <summary>K + λI for a kernel on n seeded random points in 4 dimensions (row-major, exactly symmetric).</summary>
    private double[] KernelSystem(int n, IKernelFunction kernel, double ridge)
    {
        var x = Random(n, 4, 23);
        using var xb = Backend.Upload<double>(x, n, 4);
        using var kb = Backend.Allocate<double>(n, n);
        Backend.KernelMatrix(kernel, xb, xb, null, kb);
        var k = Download(Backend, kb);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                k[(i * n) + j] = k[(j * n) + i];
            }

            k[(i * n) + i] += ridge;
        }

        return k;
    }
}
