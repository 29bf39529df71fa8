using FeatureLearning.Compute;
using FeatureLearning.Compute.Managed;
using FeatureLearning.ConvRfm;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.LinearRfm;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>The backend contract: concurrent fits on the shared default backend, disposal, and the environment settings.</summary>
public sealed class BackendContractTests
{
    public static TheoryData<string, Action<IComputeBackend, DeviceBuffer<double>, DeviceBuffer<double>, DeviceBuffer<double>>> Operations() => new()
    {
        { "Allocate", (be, _, _, _) => be.Allocate<double>(2, 2) },
        { "Upload", (be, _, _, _) => be.Upload<double>(new double[4], 2, 2) },
        { "Upload into", (be, a, _, _) => be.Upload<double>(new double[4], a) },
        { "Download", (be, a, _, _) => be.Download(a, new double[4]) },
        { "Gemm", (be, a, b, c) => be.Gemm(Transpose.None, Transpose.None, 1.0, a, b, 0.0, c) },
        { "Syrk", (be, a, _, c) => be.Syrk(Transpose.None, 1.0, a, 0.0, c) },
        { "CholeskyFactor", (be, a, _, _) => be.CholeskyFactor(a) },
        { "CholeskySolve", (be, a, b, _) => be.CholeskySolve(a, b) },
        { "SymmetricEigen", (be, a, _, c) => be.SymmetricEigen(a, be.Allocate<double>(2, 1), c) },
        { "KernelMatrix", (be, a, b, c) => be.KernelMatrix(new GaussianKernel(1.0), a, b, null, c) },
        { "Copy", (be, a, b, _) => be.Copy(a, b) },
        { "Scale", (be, a, _, _) => be.Scale(2.0, a) },
        { "Axpy", (be, a, b, _) => be.Axpy(2.0, a, b) },
        { "AddDiagonal", (be, a, _, _) => be.AddDiagonal(a, 1.0) },
        { "Hadamard", (be, a, b, c) => be.Hadamard(a, b, c) },
        { "ScaleColumns", (be, a, _, c) => be.ScaleColumns(a, c) },
        { "ScaleRows", (be, a, _, c) => be.ScaleRows(a, c) },
        { "RowKronecker", (be, a, b, c) => be.RowKronecker(a, b, c) },
        { "GatherColumns", (be, a, _, c) => be.GatherColumns(a, [1, 0], c) },
        { "BlockSum", (be, a, _, c) => be.BlockSum(a, 1, 1, 1.0, c) },
        { "RowDot", (be, a, b, c) => be.RowDot(a, b, c) },
        { "Dot", (be, a, b, _) => be.Dot(a, b) },
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public void EveryOperationOfADisposedCpuBackendThrows(string operation, Action<IComputeBackend, DeviceBuffer<double>, DeviceBuffer<double>, DeviceBuffer<double>> call)
    {
        var be = new ManagedBackend();
        var a = be.Upload<double>([4.0, 1.0, 1.0, 3.0], 2, 2);
        var b = be.Upload<double>([1.0, 2.0, 3.0, 4.0], 2, 2);
        var c = be.Allocate<double>(2, 2);
        be.Dispose();
        be.Dispose(); // a second Dispose is harmless
        var thrown = ((Action)(() => call(be, a, b, c))).Should().Throw<ObjectDisposedException>(operation).Which;
        thrown.ObjectName.Should().Contain(nameof(ManagedBackend));
        a.Dispose(); // buffers may still be disposed afterwards
    }

    [Fact]
    public void ABackendWorksUntilItIsDisposed()
    {
        var be = new ManagedBackend();
        using var a = be.Upload<double>([1.0, 2.0, 3.0, 4.0], 2, 2);
        be.Dot(a, a).Should().Be(30);
        be.Dispose();
        ((Action)(() => be.Dot(a, a))).Should().Throw<ObjectDisposedException>();
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("1024")]
    [InlineData("avx")]
    public void ABadSimdSettingFailsNamingTheVariableTheValueAndTheAcceptedValues(string value)
    {
        ((Action)(() => SimdSetting.Parse(value))).Should().Throw<InvalidOperationException>()
            .WithMessage($"The environment variable FEATURELEARNING_SIMD is '{value}', which is not an accepted value: use one of 512, 256, scalar, or leave it unset.");
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("  ", null)]
    [InlineData("512", "512")]
    [InlineData("256", "256")]
    [InlineData(" Scalar ", "scalar")]
    public void GoodSimdSettingsAreAccepted(string? value, string? expected) => SimdSetting.Parse(value).Should().Be(expected);

    [Fact]
    public void ABadBackendSettingFailsNamingTheVariableTheValueAndTheAcceptedValues()
    {
        ((Action)(() => ComputeBackends.ParseSetting("bogus"))).Should().Throw<InvalidOperationException>()
            .WithMessage("The environment variable FEATURELEARNING_BACKEND is 'bogus', which is not an accepted value: use one of managed, native, ilgpu, or leave it unset.");
        ComputeBackends.ParseSetting(null).Should().BeNull();
        ComputeBackends.ParseSetting(" ILGPU").Should().Be("ilgpu");
        ComputeBackends.ParseSetting("managed").Should().Be("managed");
    }

    [Fact]
    public void EstimatorsFittedInParallelOnTheDefaultBackendMatchSequentialFitsBitForBit()
    {
        ComputeBackends.Default.Should().BeAssignableTo<CpuBackend>("the test suite runs on a CPU default backend");
        var jobs = new Func<double[]>[]
        {
            () => RfmPredictions(1),
            () => RfmPredictions(2),
            () => KernelRidgePredictions(3),
            () => ConvRfmPredictions(4),
            () => RfmPredictions(5),
            () => MatrixCompletionResult(6),
            () => KernelRidgePredictions(7),
            () => ConvRfmPredictions(8),
        };
        var sequential = jobs.Select(job => job()).ToArray();
        for (int repeat = 0; repeat < 2; repeat++)
        {
            var parallel = new double[jobs.Length][];
            Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = jobs.Length }, i => parallel[i] = jobs[i]());
            for (int i = 0; i < jobs.Length; i++)
            {
                parallel[i].Should().Equal(sequential[i], $"job {i} must not depend on the fits running beside it");
            }
        }
    }

    private static (Matrix<double> X, Matrix<double> Y) Data(int seed, int n = 120, int d = 12)
    {
        var x = Matrix<double>.Build.DenseOfRowMajor(n, d, Random(n, d, seed));
        var y = Matrix<double>.Build.Dense(n, 2, (i, j) => j == 0 ? x[i, 0] * x[i, 1] : Math.Sin(x[i, 2]));
        return (x, y);
    }

    private static double[] RfmPredictions(int seed)
    {
        var (x, y) = Data(seed);
        var model = new RecursiveFeatureMachine(new RfmOptions { Rounds = 3, RecordFeatureMatrices = true }).Fit(x, y);
        return [.. model.Predict(x).ToRowMajorArray(), .. model.FeatureMatrix.ToRowMajorArray()];
    }

    private static double[] KernelRidgePredictions(int seed)
    {
        var (x, y) = Data(seed, n: 300);
        return new KernelRidge(new KernelRidgeOptions { Kernel = new GaussianKernel(3.0) }).Fit(x, y).Predict(x).ToRowMajorArray();
    }

    private static double[] ConvRfmPredictions(int seed)
    {
        var images = new ImageBatch(24, 1, 7, 7, Random(1, 24 * 49, seed));
        var y = Matrix<double>.Build.Dense(24, 2, (i, j) => (i + j + seed) % 2);
        var model = new ConvolutionalRfm(new ConvRfmOptions { Rounds = 2 }).Fit(images, y);
        return [.. model.Predict(images).ToRowMajorArray(), .. model.FeatureMatrix.ToRowMajorArray()];
    }

    private static double[] MatrixCompletionResult(int seed)
    {
        var (_, observed) = PlantedProblems.LowRank(60, 40, 2, 1200, seed);
        return new MatrixCompletion(new MatrixCompletionOptions { MaxIterations = 20 }).Fit(observed).Completed.ToRowMajorArray();
    }
}
