using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.Benchmarks;

/// <summary>The measured operations, shared by the quick mode and the BenchmarkDotNet suites.</summary>
public sealed class Workloads<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IComputeBackend backend;
    private readonly List<IDisposable> owned = [];

    public Workloads(IComputeBackend backend) => this.backend = backend;

    public static double GemmFlops(int n) => 2.0 * n * n * n;

    public static double SyrkFlops(int n, int k) => (double)n * n * k; // half of the full product

    public static double CholeskySolveFlops(int n, int c) => ((double)n * n * n / 3) + (2.0 * 2 * n * n * c);

    public static double KernelMatrixFlops(int n, int m, int d) => 2.0 * n * m * d;

    public DeviceBuffer<T> Random(int rows, int cols, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        var data = new T[rows * cols];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = T.CreateTruncating(scale * ((2 * rng.NextDouble()) - 1));
        }

        return Own(backend.Upload<T>(data, rows, cols));
    }

    /// <summary>A well-conditioned SPD matrix: a Gaussian kernel matrix plus a ridge.</summary>
    public DeviceBuffer<T> SpdMatrix(int n, int seed)
    {
        var x = Random(n, 16, seed);
        var k = Own(backend.Allocate<T>(n, n));
        backend.KernelMatrix(new GaussianKernel(2.0), x, x, null, k);
        backend.AddDiagonal(k, T.CreateTruncating(1e-1));
        return k;
    }

    public DeviceBuffer<T> Allocate(int rows, int cols) => Own(backend.Allocate<T>(rows, cols));

    public DeviceBuffer<T> Own(DeviceBuffer<T> buffer)
    {
        owned.Add(buffer);
        return buffer;
    }

    public void Gemm(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c)
        => backend.Gemm(Transpose.None, Transpose.None, T.One, a, b, T.Zero, c);

    public void Syrk(DeviceBuffer<T> a, DeviceBuffer<T> c)
        => backend.Syrk(Transpose.None, T.One, a, T.Zero, c);

    public void CholeskySolve(DeviceBuffer<T> spd, DeviceBuffer<T> work, DeviceBuffer<T> rhs, DeviceBuffer<T> rhsWork)
    {
        backend.Copy(spd, work);
        backend.Copy(rhs, rhsWork);
        backend.CholeskyFactor(work, CholeskyOptions.NoJitter);
        backend.CholeskySolve(work, rhsWork);
    }

    public void KernelMatrix(DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T> k)
        => backend.KernelMatrix(new LaplaceKernel(10.0), x, z, null, k);

    public void Dispose()
    {
        foreach (var b in owned)
        {
            b.Dispose();
        }
    }
}
