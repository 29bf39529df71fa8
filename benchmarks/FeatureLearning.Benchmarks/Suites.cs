using System.Numerics;
using BenchmarkDotNet.Attributes;
using FeatureLearning.Compute;

namespace FeatureLearning.Benchmarks;

/// <summary>Shared set-up: one backend and a <see cref="Workloads{T}"/> per run.</summary>
public abstract class SuiteBase<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected IComputeBackend Backend { get; private set; } = null!;

    private protected Workloads<T> Work { get; private set; } = null!;

    /// <summary>The backend by name (ilgpu when its package lands).</summary>
    [Params("managed", "native")]
    public string BackendName { get; set; } = "managed";

    protected void SetUp()
    {
        Backend = ComputeBackends.Create(BackendName);
        Work = new Workloads<T>(Backend);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Work.Dispose();
        Backend.Dispose();
    }
}

/// <summary>Square GEMM C = A·B (2n³ flops).</summary>
[GenericTypeArguments(typeof(double))]
[GenericTypeArguments(typeof(float))]
public class GemmBenchmarks<T> : SuiteBase<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private DeviceBuffer<T> a = null!, b = null!, c = null!;

    [Params(500, 2000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SetUp();
        (a, b, c) = (Work.Random(N, N, 1), Work.Random(N, N, 2), Work.Allocate(N, N));
    }

    [Benchmark]
    public void Gemm() => Work.Gemm(a, b, c);

    [Benchmark]
    public void Syrk() => Work.Syrk(a, c);
}

/// <summary>Cholesky factor + solve of an n × n SPD system with 10 right-hand sides.</summary>
[GenericTypeArguments(typeof(double))]
[GenericTypeArguments(typeof(float))]
public class CholeskyBenchmarks<T> : SuiteBase<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private DeviceBuffer<T> spd = null!, work = null!, rhs = null!, rhsWork = null!;

    [Params(1000, 4000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SetUp();
        (spd, work, rhs, rhsWork) = (Work.SpdMatrix(N, 3), Work.Allocate(N, N), Work.Random(N, 10, 4), Work.Allocate(N, 10));
    }

    [Benchmark]
    public void CholeskySolve() => Work.CholeskySolve(spd, work, rhs, rhsWork);
}

/// <summary>The fused Laplace kernel matrix of n points in d = 100 dimensions.</summary>
[GenericTypeArguments(typeof(double))]
[GenericTypeArguments(typeof(float))]
public class KernelMatrixBenchmarks<T> : SuiteBase<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private DeviceBuffer<T> x = null!, k = null!;

    [Params(2000, 8000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SetUp();
        (x, k) = (Work.Random(N, 100, 5), Work.Allocate(N, N));
    }

    [Benchmark]
    public void KernelMatrix() => Work.KernelMatrix(x, x, k);
}

/// <summary>One RFM round (kernel matrix with AGOP weights, solve, AGOP, metric update), Laplace kernel, d = 100.</summary>
public class RfmIterationBenchmarks
{
    private IComputeBackend backend = null!;
    private MathNet.Numerics.LinearAlgebra.Matrix<double> x = null!, y = null!;

    [Params("managed", "native")]
    public string BackendName { get; set; } = "managed";

    [Params(2000, 5000)]
    public int N { get; set; }

    [Params(1, 10)]
    public int Outputs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        backend = ComputeBackends.Create(BackendName);
        var rng = new Random(N + Outputs);
        x = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(N, 100, (_, _) => rng.NextDouble());
        y = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(N, Outputs, (_, _) => rng.NextDouble());
    }

    /// <summary>Two rounds: the first includes the AGOP and update, the second only the solve with the new metric.</summary>
    [Benchmark]
    public object TwoRounds() => new Rfm.RecursiveFeatureMachine(new Rfm.RfmOptions { Kernel = new Kernels.LaplaceKernel(10), Rounds = 2, Backend = backend }).Fit(x, y);

    [GlobalCleanup]
    public void Cleanup() => backend.Dispose();
}
