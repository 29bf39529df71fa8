using System.Numerics;
using FeatureLearning.Backends.Ilgpu.Device;
using FeatureLearning.Compute;

namespace FeatureLearning.Backends.Ilgpu;

/// <content>BLAS-3: GEMM and SYRK, in cuBLAS on CUDA with the libraries, else in the tiled ILGPU GEMM.</content>
public sealed partial class IlgpuBackend
{
    /// <inheritdoc />
    public void Gemm<T>(Transpose transA, Transpose transB, T alpha, DeviceBuffer<T> a, DeviceBuffer<T> b, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb, gc) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(c, nameof(c)));
        Shapes.CheckGemm(transA, transB, a, b, c, out int m, out int n, out int k);
        using var exclusive = Enter();
        GemmCore(transA == Transpose.Transpose, transB == Transpose.Transpose, m, n, k, alpha, ga, 0, a.LeadingDimension, gb, 0, b.LeadingDimension, beta, gc, 0, c.LeadingDimension, lowerOnly: false);
    }

    /// <inheritdoc />
    public void Syrk<T>(Transpose trans, T alpha, DeviceBuffer<T> a, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gc) = (Own(a, nameof(a)), Own(c, nameof(c)));
        Shapes.CheckSyrk(trans, a, c, out int n, out int k);
        bool t = trans == Transpose.Transpose;

        if (n == 0)
        {
            return;
        }

        using var exclusive = Enter();
        if (cuda is not null)
        {
            using var launch = clock.Launch(library: true);
            cuda.SyrkLower(t, n, k, alpha, ga.Pointer, a.LeadingDimension, beta, gc.Pointer, c.LeadingDimension);
        }
        else
        {
            GemmCore(t, !t, n, n, k, alpha, ga, 0, a.LeadingDimension, ga, 0, a.LeadingDimension, beta, gc, 0, c.LeadingDimension, lowerOnly: true);
        }

        Kernels<T>().MirrorLower(n, gc.View, c.LeadingDimension);
    }

    private void GemmCore<T>(
        bool transA, bool transB, int m, int n, int k, T alpha, IlgpuBuffer<T> a, long aOffset, int lda, IlgpuBuffer<T> b, long bOffset, int ldb, T beta, IlgpuBuffer<T> c, long cOffset, int ldc, bool lowerOnly)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (cuda is not null && !lowerOnly)
        {
            using var launch = clock.Launch(library: true);
            cuda.Gemm(transA, transB, m, n, k, alpha, a.At(aOffset), lda, b.At(bOffset), ldb, beta, c.At(cOffset), ldc);
            return;
        }

        var args = new GemmArgs<T>
        {
            M = m,
            N = n,
            K = k,
            Lda = lda,
            Ldb = ldb,
            Ldc = ldc,
            AOffset = aOffset,
            BOffset = bOffset,
            COffset = cOffset,
            TransA = transA ? 1 : 0,
            TransB = transB ? 1 : 0,
            LowerOnly = lowerOnly ? 1 : 0,
            BetaIsZero = beta == T.Zero ? 1 : 0,
            Alpha = alpha,
            Beta = beta,
        };
        Kernels<T>().Gemm(a.View, b.View, c.View, args);
    }
}
