using System.Reflection;
using FeatureLearning.Backends.Ilgpu.Device;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Backends.Ilgpu.Tests;

public sealed class IlgpuBackendTests
{
    [Fact]
    public void DescribeNamesTheDeviceAndTheBackendIsSelectableByName()
    {
        using var backend = ComputeBackends.Create("ilgpu");
        var ilgpu = backend.Should().BeOfType<IlgpuBackend>().Subject;
        backend.Describe().Should().StartWith("ilgpu backend:").And.Contain(ilgpu.DeviceName).And.Contain("math mode Default");
        ilgpu.DeviceMemoryBytes.Should().BeGreaterThan(0);
    }

    [Fact]
    public void TimingsCountCompilationLaunchesAndTheBytesCopied()
    {
        // A fresh backend: the first GEMM compiles its kernel, the second does not; the copies are counted to the byte
        // (two 4 x 3 and 3 x 5 uploads, one 4 x 5 download of doubles). With split timings on, the launch is followed by a
        // synchronization whose wait is counted as compute and the snapshot says so.
        using var backend = new IlgpuBackend(new IlgpuBackendOptions { Device = IlgpuDevice.Cpu });
        backend.Timings.Launches.Should().Be(0);
        using var a = backend.Upload<double>(Random(4, 3, 1), 4, 3);
        using var b = backend.Upload<double>(Random(3, 5, 2), 3, 5);
        using var c = backend.Allocate<double>(4, 5);
        backend.ResetTimings();
        backend.Gemm(Transpose.None, Transpose.None, 1.0, a, b, 0.0, c);
        var first = backend.Timings;
        first.KernelsCompiled.Should().BeGreaterThanOrEqualTo(1);
        first.CompileSeconds.Should().BePositive();
        first.Launches.Should().BeGreaterThanOrEqualTo(1);
        first.Transfers.Should().Be(0);

        backend.ResetTimings();
        backend.SplitTimings = true;
        backend.Gemm(Transpose.None, Transpose.None, 1.0, a, b, 0.0, c);
        var result = new double[20];
        backend.Download(c, result);
        var second = backend.Timings;
        backend.SplitTimings = false;
        second.KernelsCompiled.Should().Be(0);
        second.CompileSeconds.Should().Be(0);
        second.Launches.Should().Be(first.Launches);
        second.Transfers.Should().Be(1);
        second.TransferBytes.Should().Be(20 * sizeof(double));
        second.Split.Should().BeTrue();
        second.ComputeSeconds.Should().BeGreaterThan(0);
        second.BackendSeconds.Should().BeApproximately(second.CompileSeconds + second.LaunchSeconds + second.ComputeSeconds + second.TransferSeconds, 1e-12);
        second.ToJson().Should().Contain("\"transfer_bytes\":160").And.Contain("\"split\":true");
        RelativeError(result, Gemm(false, false, 4, 5, 3, 1.0, Random(4, 3, 1), 3, Random(3, 5, 2), 5, 0.0, new double[20])).Should().BeLessThan(1e-12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchedRidgeSolveMatchesTheManagedBackend(bool single)
    {
        // Random index sets of orders 0 to 9 into a 12 x 12 SPD P, 0 to 2 right-hand sides each: the device kernel (one
        // thread per system) against the managed backend's host loop, float and double. Tiny: the CPU accelerator is slow.
        const int n = 12;
        var random = new Random(7);
        var sets = Enumerable.Range(0, 9).Select(s => Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(s).ToArray()).ToArray();
        var counts = sets.Select((_, s) => s % 3).ToArray();
        var starts = new int[sets.Length + 1];
        for (int s = 0; s < sets.Length; s++)
        {
            starts[s + 1] = starts[s] + sets[s].Length;
        }

        var systems = new SmallSystemBatch(sets.SelectMany(x => x).ToArray(), starts, counts);
        var p = Spd(n, 41, 0.05);
        var b = Random(1, (int)systems.RightHandSideLength, 42);
        using var ilgpu = new IlgpuBackend();
        using var managed = new ManagedBackend();
        double[] Solve(IComputeBackend backend) => single ? Run<float>(backend) : Run<double>(backend);
        double[] Run<T>(IComputeBackend backend)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            using var pb = backend.Upload<T>(Cast<T>(p), n, n);
            using var bb = backend.Upload<T>(Cast<T>(b), 1, b.Length);
            backend.BatchedRidgeSolve(pb, T.CreateTruncating(0.01), systems, bb);
            return Download(backend, bb);
        }

        var expected = Solve(managed);
        RelativeError(Solve(ilgpu), expected).Should().BeLessThan(single ? 1e-4 : 1e-10);
        RelativeError(expected, b).Should().BeGreaterThan(0.1, "the right-hand sides were overwritten by the solutions");
    }

    [Fact]
    public void OperationsFromSeveralThreadsOnOneBackendMatchSequentialCalls()
    {
        // The threading contract of IComputeBackend: a shared backend (ComputeBackends.Default) gives every caller the
        // result it would get alone. Tiny shapes: the CPU accelerator is slow.
        using var backend = new IlgpuBackend();
        double[] Work(int seed)
        {
            using var x = backend.Upload<double>(Random(6, 3, seed), 6, 3);
            using var z = backend.Upload<double>(Random(5, 3, seed + 100), 5, 3);
            using var k = backend.Allocate<double>(6, 5);
            using var g = backend.Allocate<double>(6, 6);
            backend.KernelMatrix(new GaussianKernel(1.5), x, z, null, k);
            backend.Gemm(Transpose.None, Transpose.Transpose, 1.0, k, k, 0.0, g);
            backend.Scale(0.5, g);
            var host = new double[36];
            backend.Download(g, host);
            return host;
        }

        var sequential = Enumerable.Range(0, 4).Select(Work).ToArray();
        var parallel = new double[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = Work(i));
        for (int i = 0; i < 4; i++)
        {
            parallel[i].Should().Equal(sequential[i]);
            parallel[i].Should().Contain(v => v > 0);
        }

        backend.Dispose();
        ((Action)(() => Work(0))).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void AnUnknownDeviceVariableIsRejectedWithTheAllowedValues()
    {
        var act = () => new IlgpuBackend(new IlgpuBackendOptions { Device = (IlgpuDevice)17 });
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Device");
    }

    [SkippableFact]
    public void AnAllocationLargerThanTheDeviceReportsBytesRequestedAndAvailable()
    {
        using var backend = new IlgpuBackend();
        Skip.If(backend.DeviceKind == IlgpuDevice.Cpu, "the CPU accelerator reports no memory limit");
        long elements = (backend.DeviceMemoryBytes / sizeof(double)) + 1;
        int rows = (int)Math.Min(int.MaxValue, (elements / int.MaxValue) + 1);
        int cols = (int)((elements + rows - 1) / rows);
        var act = () => backend.Allocate<double>(rows, cols);
        var e = act.Should().Throw<DeviceOutOfMemoryException>().Which;
        e.RequestedBytes.Should().BeGreaterThan(backend.DeviceMemoryBytes);
        e.TotalBytes.Should().Be(backend.DeviceMemoryBytes);
        e.Message.Should().Contain("free").And.Contain("AgopSampleSize").And.Contain("BlockSize");
    }

    [Fact]
    public void AClassKernelFallsBackToHostEvaluationWithTheSameResult()
    {
        using var backend = new IlgpuBackend();
        const int n = 9, d = 3;
        using var x = backend.Upload<double>(Random(n, d, 1), n, d);
        using var k1 = backend.Allocate<double>(n, n);
        using var w1 = backend.Allocate<double>(n, n);
        using var k2 = backend.Allocate<double>(n, n);
        using var w2 = backend.Allocate<double>(n, n);
        backend.KernelMatrix(new GaussianKernel(1.3), x, x, null, k1, w1);
        backend.KernelMatrix(new BoxedKernel(new GaussianKernel(1.3)), x, x, null, k2, w2);
        RelativeError(Download(backend, k2), Download(backend, k1)).Should().BeLessThan(1e-14);
        RelativeError(Download(backend, w2), Download(backend, w1)).Should().BeLessThan(1e-14);
    }

    [Fact]
    public void RfmMatchesTheManagedBackend()
    {
        using var gpu = new IlgpuBackend();
        using var managed = new ManagedBackend();
        var x = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(120, 5, Random(120, 5, 1));
        var y = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(120, 2, Random(120, 2, 2));
        foreach (var form in new[] { AgopForm.Direct, AgopForm.Gram })
        {
            var options = new RfmOptions { Kernel = new LaplaceKernel(3), Ridge = 1e-2, Rounds = 3, AgopForm = form, CenterGradients = true };
            var a = new RecursiveFeatureMachine(options with { Backend = gpu }).Fit(x, y);
            var b = new RecursiveFeatureMachine(options with { Backend = managed }).Fit(x, y);
            RelativeError(a.FeatureMatrix.ToRowMajorArray(), b.FeatureMatrix.ToRowMajorArray()).Should().BeLessThan(1e-9);
            RelativeError(a.Coefficients.ToRowMajorArray(), b.Coefficients.ToRowMajorArray()).Should().BeLessThan(1e-9);
        }
    }

    /// <summary>The sparse direct AGOP (gathers and GEMMs on the device) against the managed backend's dense direct form, on one-hot inputs.</summary>
    [Fact]
    public void SparseDirectAgopMatchesTheManagedDenseForm()
    {
        using var gpu = new IlgpuBackend();
        using var managed = new ManagedBackend();
        const int n = 20, p = 5, d = 2 * p, c = 3;
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            x[(i * d) + (i % p)] = 1;
            x[(i * d) + p + ((i * 3 / p) % p)] = 1;
        }

        var xm = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, d, x);
        var y = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, c, Random(n, c, 5));
        var model = new KernelRidge(new KernelRidgeOptions { Kernel = new GaussianKernel(1.5), Ridge = 0.1, Backend = managed }).Fit(xm, y);
        var reference = Agop.Compute(model, centre: true, form: AgopForm.Direct, backend: managed).ToRowMajorArray();
        var sparse = Agop.Compute(model, centre: true, form: AgopForm.SparseDirect, backend: gpu).ToRowMajorArray();
        RelativeError(sparse, reference).Should().BeLessThan(1e-10);
        var blocked = Agop.Compute(model, centre: true, form: AgopForm.SparseDirect, backend: gpu, blockSize: 7).ToRowMajorArray();
        RelativeError(blocked, reference).Should().BeLessThan(1e-10);
    }

    [Fact]
    public void BlockSizeBoundsDeviceMemoryWithTheSameFit()
    {
        using var gpu = new IlgpuBackend();
        using var managed = new ManagedBackend();
        const int n = 120, d = 5, block = 16;
        var x = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, d, Random(n, d, 3));
        var y = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(n, 2, Random(n, 2, 4));
        var options = new RfmOptions { Kernel = new LaplaceKernel(3), Ridge = 1e-2, Rounds = 2, AgopForm = AgopForm.Direct, CenterGradients = true };

        gpu.ResetPeakBytesInUse();
        var whole = new RecursiveFeatureMachine(options with { Backend = gpu }).Fit(x, y);
        long wholePeak = gpu.PeakBytesInUse;
        gpu.ResetPeakBytesInUse();
        var blocked = new RecursiveFeatureMachine(options with { Backend = gpu, BlockSize = block }).Fit(x, y);
        long blockedPeak = gpu.PeakBytesInUse;
        var reference = new RecursiveFeatureMachine(options with { Backend = managed, BlockSize = block }).Fit(x, y);

        RelativeError(blocked.FeatureMatrix.ToRowMajorArray(), whole.FeatureMatrix.ToRowMajorArray()).Should().BeLessThan(1e-10);
        RelativeError(blocked.FeatureMatrix.ToRowMajorArray(), reference.FeatureMatrix.ToRowMajorArray()).Should().BeLessThan(1e-9);
        const long kernelBytes = (long)n * n * sizeof(double);
        wholePeak.Should().BeGreaterThanOrEqualTo(2 * kernelBytes, "K and the n × n derivative weights");
        blockedPeak.Should().BeLessThanOrEqualTo(kernelBytes + (2L * block * n * sizeof(double)) + (8L * n * d * sizeof(double)));
        gpu.BytesInUse.Should().Be(0, "every buffer of both fits was returned");
    }

    [Fact]
    public void GrokkingFollowsTheSameAccuracyCurveAsManaged()
    {
        using var gpu = new IlgpuBackend();
        using var managed = new ManagedBackend();
        var task = ModularArithmetic.Create(11, ModularOperation.Add);
        var (train, test) = task.Split(0.8, seed: 0);
        var validation = (task.Inputs<double>(test), task.Targets<double>(test));
        var curve = new List<double[]>();
        foreach (IComputeBackend backend in new IComputeBackend[] { gpu, managed })
        {
            var model = new RecursiveFeatureMachine(RfmOptions.Grokking(12) with { Backend = backend, SelectBy = SelectionMetric.Last })
                .Fit(task.Inputs<double>(train), task.Targets<double>(train), validation);
            curve.Add(model.History.Select(h => h.ValidationAccuracy).ToArray());
        }

        curve[0].Should().Equal(curve[1]);
        curve[0][^1].Should().BeGreaterThan(curve[0][0], "the small task is learned as M is updated");
    }

    /// <summary>
    /// Every device kernel, in both precisions and for every kernel family of the library, compiles to PTX for an H100
    /// (sm_90) without a GPU: the CUDA code generation is checked in CI, not only on a GPU machine.
    /// </summary>
    [Fact]
    public void EveryKernelCompilesToPtxForSm90()
    {
        using var context = Context.Create(builder => builder.EnableAlgorithms().Math(MathMode.Default));
        using var ptx = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!);
        var kernels = typeof(Device.Kernels);
        var compiled = new List<string>();
        foreach (var (element, ops) in new[] { (typeof(float), typeof(SingleOps)), (typeof(double), typeof(DoubleOps)) })
        {
            foreach (var method in kernels.GetMethods(BindingFlags.Public | BindingFlags.Static))
            {
                var profiles = method.GetGenericArguments().Length == 3
                    ? new[] { typeof(LaplaceKernel), typeof(GaussianKernel), typeof(GeneralizedLaplaceKernel), typeof(PolynomialKernel) }.Select(k => typeof(KernelProfile<>).MakeGenericType(k)).Append(typeof(RawStatistic)).ToArray()
                    : [typeof(RawStatistic)];
                foreach (var profile in profiles)
                {
                    var args = method.GetGenericArguments().Length switch
                    {
                        1 => new[] { element },
                        2 => [element, ops],
                        _ => [element, ops, profile!],
                    };
                    var closed = method.MakeGenericMethod(args);
                    bool grouped = closed.GetParameters()[0].ParameterType is var p && p != typeof(Index1D) && p != typeof(Index2D);
                    var entry = grouped ? EntryPointDescription.FromExplicitlyGroupedKernel(closed) : EntryPointDescription.FromImplicitlyGroupedKernel(closed);
                    CheckPtx(ptx, entry);
                    compiled.Add(closed.ToString()!);
                }
            }

            var activation = typeof(ActivationKernel).GetMethod(nameof(ActivationKernel.Apply))!.MakeGenericMethod(element, ops);
            CheckPtx(ptx, EntryPointDescription.FromImplicitlyGroupedKernel(activation));
            compiled.Add(activation.ToString()!);
        }

        compiled.Should().HaveCountGreaterThan(30);
    }

    private static void CheckPtx(PTXBackend ptx, EntryPointDescription entry)
    {
        var kernel = (PTXCompiledKernel)ptx.Compile(entry, default);
        kernel.PTXAssembly.Should().Contain(".entry").And.Contain(".target sm_");

        // ILGPU 1.5.3 compiles `c ? 1 : 0` converted to double as a select of the integer bit patterns into a floating
        // register: 1 becomes the denormal 0d0000000000000001 (4.9e-324), 0f00000001 in single. No kernel means that.
        kernel.PTXAssembly.Should().NotContain("0d0000000000000001", $"{entry.MethodSource} selects an integer bit pattern into a double")
            .And.NotContain("0f00000001", $"{entry.MethodSource} selects an integer bit pattern into a float");
    }
}
