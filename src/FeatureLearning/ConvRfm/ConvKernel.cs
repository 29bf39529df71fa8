using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.ConvRfm;

/// <summary>The aligned-patch convolutional kernel K_M(x, z) = (1/P) Σ_p k_M(x_p, z_p) on im2col patch matrices.</summary>
internal static class ConvKernel
{
    /// <summary>K ← (1/P) Σ_p k_M(A_p, B_p), one backend kernel matrix per patch position.</summary>
    public static void Average(IComputeBackend be, IKernelFunction kernel, DeviceBuffer<double>[] a, DeviceBuffer<double>[] b, DeviceBuffer<double>? metric, DeviceBuffer<double> k, DeviceBuffer<double> scratch)
    {
        be.Scale(0.0, k);
        for (int p = 0; p < a.Length; p++)
        {
            be.KernelMatrix(kernel, a[p], b[p], metric, scratch);
            be.Axpy(1.0 / a.Length, scratch, k);
        }
    }

    /// <summary>Predictions K(A, B)·α for the m images of <paramref name="a"/> against the centres <paramref name="b"/>.</summary>
    public static double[] Predict(IComputeBackend be, IKernelFunction kernel, DeviceBuffer<double>[] a, DeviceBuffer<double>[] b, DeviceBuffer<double>? metric, DeviceBuffer<double> alpha, int m, int c)
    {
        int n = b[0].Rows;
        using var k = be.Allocate<double>(m, n);
        using var scratch = be.Allocate<double>(m, n);
        using var f = be.Allocate<double>(m, c);
        Average(be, kernel, a, b, metric, k, scratch);
        be.Gemm(Transpose.None, Transpose.None, 1.0, k, alpha, 0.0, f);
        var host = new double[m * c];
        be.Download(f, host);
        return host;
    }
}
