using System.Numerics;
using FeatureLearning.Compute;
using ILGPU;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <content>LAPACK: the Cholesky factorization with its jitter retry (cuSOLVER, or the blocked right-looking ILGPU kernels), the Cholesky solve (cuSOLVER, or blocked triangular solves), and the symmetric eigendecomposition on the host. The factorization and the solve work in place on strided views: every kernel, cuSOLVER call and GEMM takes the leading dimension.</content>
public sealed partial class IlgpuBackend
{
    /// <inheritdoc />
    public CholeskyReport CholeskyFactor<T>(DeviceBuffer<T> a, CholeskyOptions? options = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ga = Own(a, nameof(a));
        options = Shapes.CheckCholeskyFactor(a, options);
        int n = a.Rows;
        if (n == 0)
        {
            return CholeskyRetry.Empty;
        }

        using var exclusive = Enter();
        var kernels = Kernels<T>();
        int lda = a.LeadingDimension;
        using var diagonal = (IlgpuBuffer<T>)Allocate<T>(n, 1);
        kernels.ReadDiagonal(n, ga.View, lda, diagonal.View);
        var host = new T[n];
        Download(diagonal, host);
        using var info = accelerator.Allocate1D<int>(2);
        return CholeskyRetry.Run<T>(
            host,
            options,
            () => FactorOnce(ga, n, lda, info, cancellationToken),
            jitter => kernels.RestoreLower(n, ga.View, lda, diagonal.View, T.CreateTruncating(jitter)),
            cancellationToken);
    }

    /// <summary>One factorization attempt of the n × n matrix at <paramref name="a"/> with row stride <paramref name="lda"/> (a strided view is factored in place).</summary>
    private int FactorOnce<T>(IlgpuBuffer<T> a, int n, int lda, MemoryBuffer1D<int, Stride1D.Dense> info, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernels = Kernels<T>();
        HostCopy.ToDevice<int>(clock, [-1, int.MaxValue], info.View);
        if (cuda is not null)
        {
            using var launch = clock.Launch(library: true);
            int lwork = cuda.PotrfWorkspace<T>(n, a.Pointer, lda);
            var work = Rent<T>(Math.Max(1, lwork));
            try
            {
                cuda.Potrf<T>(n, a.Pointer, lda, work.NativePtr, lwork, info.NativePtr);
            }
            finally
            {
                Return(work);
            }
        }
        else
        {
            const int nb = Device.Kernels.CholeskyBlock;
            for (int k0 = 0; k0 < n; k0 += nb)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int size = Math.Min(nb, n - k0), below = n - k0 - size;
                kernels.CholeskyDiagonal(a.View, info.View, lda, k0, size);
                kernels.CholeskyPanel(a.View, n, lda, k0, size);
                if (below > 0)
                {
                    long panel = ((long)(k0 + size) * lda) + k0, trailing = ((long)(k0 + size) * lda) + k0 + size;
                    GemmCore(false, true, below, below, size, -T.One, a, panel, lda, a, panel, lda, T.One, a, trailing, lda, lowerOnly: true);
                }
            }
        }

        // NaN pivots pass some factorizations silently: check the diagonal of L as well.
        kernels.CheckDiagonal(n, a.View, info.View, lda);
        var status = HostCopy.ToHostArray(clock, info.View);
        if (cuda is not null)
        {
            // cuSOLVER's info is 1-based (0 = success).
            return status[0] > 0 ? status[0] - 1 : status[1] != int.MaxValue ? status[1] : -1;
        }

        return status[0] >= 0 ? status[0] : status[1] != int.MaxValue ? status[1] : -1;
    }

    /// <inheritdoc />
    public void CholeskySolve<T>(DeviceBuffer<T> factor, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (gl, gb) = (Own(factor, nameof(factor)), Own(b, nameof(b)));
        Shapes.CheckCholeskySolve(factor, b);
        if (b.LongLength == 0)
        {
            return;
        }

        using var exclusive = Enter();
        int n = factor.Rows, c = b.Cols, ldl = factor.LeadingDimension, ldb = b.LeadingDimension;
        if (cuda is not null)
        {
            using (clock.Launch(library: true))
            {
                cuda.CholeskySolve<T>(n, c, gl.Pointer, ldl, gb.Pointer, ldb);
            }

            return;
        }

        var kernels = Kernels<T>();
        const int nb = Device.Kernels.CholeskyBlock;

        // Forward: L·Y = B, block row by block row, then the rows below are updated with one GEMM.
        for (int k0 = 0; k0 < n; k0 += nb)
        {
            int size = Math.Min(nb, n - k0), below = n - k0 - size;
            kernels.ForwardBlock(c, gl.View, gb.View, ldl, ldb, k0, size);
            if (below > 0)
            {
                GemmCore(false, false, below, c, size, -T.One, gl, ((long)(k0 + size) * ldl) + k0, ldl, gb, (long)k0 * ldb, ldb, T.One, gb, (long)(k0 + size) * ldb, ldb, lowerOnly: false);
            }
        }

        // Backward: Lᵀ·X = Y from the last block up; each block first subtracts L21ᵀ·X2 of the blocks below.
        int last = ((n - 1) / nb) * nb;
        for (int k0 = last; k0 >= 0; k0 -= nb)
        {
            int size = Math.Min(nb, n - k0), below = n - k0 - size;
            if (below > 0)
            {
                GemmCore(true, false, size, c, below, -T.One, gl, ((long)(k0 + size) * ldl) + k0, ldl, gb, (long)(k0 + size) * ldb, ldb, T.One, gb, (long)k0 * ldb, ldb, lowerOnly: false);
            }

            kernels.BackwardBlock(c, gl.View, gb.View, ldl, ldb, k0, size);
        }
    }

    /// <inheritdoc />
    /// <remarks>One device thread per system (<c>Kernels.BatchedRidgeSolve</c>): it gathers its block of P into a packed
    /// workspace of Σ k_s² elements, factors it and solves its right-hand sides; the layout is uploaded on every call.</remarks>
    public void BatchedRidgeSolve<T>(DeviceBuffer<T> p, T ridge, SmallSystemBatch systems, DeviceBuffer<T> rightHandSides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (gp, gb) = (Own(p, nameof(p)), Own(rightHandSides, nameof(rightHandSides)));
        Shapes.CheckBatchedRidgeSolve(p, systems, rightHandSides);
        int count = systems.Count;
        if (count == 0)
        {
            return;
        }

        using var exclusive = Enter();
        var layout = new int[(2 * count) + 1 + systems.Indices.Length];
        systems.Starts.CopyTo(layout);
        systems.RightHandSides.CopyTo(layout.AsSpan(count + 1));
        systems.Indices.CopyTo(layout.AsSpan((2 * count) + 1));
        var offsets = new long[2 * (count + 1)];
        systems.RightHandSideOffsets.CopyTo(offsets);
        systems.FactorOffsets.CopyTo(offsets.AsSpan(count + 1));
        using var deviceLayout = accelerator.Allocate1D<int>(layout.Length);
        using var deviceOffsets = accelerator.Allocate1D<long>(offsets.Length);
        using var status = accelerator.Allocate1D<int>(count);
        HostCopy.ToDevice<int>(clock, layout, deviceLayout.View);
        HostCopy.ToDevice<long>(clock, offsets, deviceOffsets.View);
        var factors = Rent<T>(Math.Max(1, systems.FactorLength));
        try
        {
            Kernels<T>().BatchedRidgeSolve(count, gp.View, factors.View.BaseView, gb.View, deviceLayout.View.BaseView, deviceOffsets.View.BaseView, status.View.BaseView, p.LeadingDimension, ridge);
            var result = HostCopy.ToHostArray(clock, status.View);
            for (int s = 0; s < count; s++)
            {
                if (result[s] >= 0)
                {
                    throw MatrixNotPositiveDefiniteException.ForBatchedSystem(s, systems.Order(s), result[s]);
                }
            }
        }
        finally
        {
            Return(factors);
        }
    }

    /// <inheritdoc />
    /// <remarks>Runs on the host (MathNet.Numerics): it is meant for d × d metric matrices.</remarks>
    public void SymmetricEigen<T>(DeviceBuffer<T> a, DeviceBuffer<T> eigenvalues, DeviceBuffer<T> eigenvectors)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        (_, _, _) = (Own(a, nameof(a)), Own(eigenvalues, nameof(eigenvalues)), Own(eigenvectors, nameof(eigenvectors)));
        Shapes.CheckEigen(a, eigenvalues, eigenvectors);
        HostEigen.Run(this, a, eigenvalues, eigenvectors);
    }
}
