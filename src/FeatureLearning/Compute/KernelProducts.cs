using System.Numerics;
using FeatureLearning.Kernels;

namespace FeatureLearning.Compute;

/// <summary>
/// F = K(X, Z)·α, the predictions of a kernel machine with centres Z and coefficients α, on any backend: on a CPU backend
/// tile by tile without storing K (<see cref="CpuBackend.KernelProduct{T, TKernel}"/>), elsewhere the kernel matrix and a GEMM.
/// </summary>
internal static class KernelProducts
{
    /// <summary>F = K(X, Z)·α (<paramref name="result"/>, n × c, overwritten) for X (n × d), Z (m × d) and α (m × c).</summary>
    public static void Compute<T, TKernel>(IComputeBackend backend, in TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> alpha, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        if (backend is CpuBackend cpu)
        {
            cpu.KernelProduct(kernel, x, z, metric, alpha, result);
        }
        else
        {
            ThroughKernelMatrix(backend, kernel, x, z, metric, alpha, result, long.MaxValue);
        }
    }

    /// <summary>
    /// F = K(X, Z)·α through the kernel matrix and a GEMM, a block of rows of X at a time, each block's K at most
    /// <paramref name="blockElements"/> elements (at least one row).
    /// </summary>
    public static void ThroughKernelMatrix<T, TKernel>(
        IComputeBackend backend, in TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> alpha, DeviceBuffer<T> result, long blockElements)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        if (x.Rows == 0)
        {
            return;
        }

        int rowsPerBlock = (int)Math.Clamp(blockElements / Math.Max(1, z.Rows), 1, x.Rows);
        using var k = backend.Allocate<T>(rowsPerBlock, z.Rows);
        for (int i0 = 0; i0 < x.Rows; i0 += rowsPerBlock)
        {
            int rows = Math.Min(rowsPerBlock, x.Rows - i0);
            using var xr = x.RowRange(i0, rows);
            using var kr = k.RowRange(0, rows);
            using var fr = result.RowRange(i0, rows);
            backend.KernelMatrix(kernel, xr, z, metric, kr);
            backend.Gemm(Transpose.None, Transpose.None, T.One, kr, alpha, T.Zero, fr);
        }
    }
}
