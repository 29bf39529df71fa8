using System.Numerics;
using System.Numerics.Tensors;
using FeatureLearning.Compute.Managed;
using FeatureLearning.Kernels;

namespace FeatureLearning.Compute;

public abstract unsafe partial class CpuBackend
{
    [ThreadStatic]
    private static bool? gaussianProductsOnThisThread;

    [ThreadStatic]
    private static bool lastKernelUsedGaussianProducts;

    /// <summary>
    /// Whether the kernel matrices the calling thread starts may evaluate the Gaussian kernel on binary sparse centres as
    /// products of exponentials (<see cref="GaussianFactors{T}"/>; null, the default: yes). Tests and measurements switch it
    /// off to compare with the exponential of each entry.
    /// </summary>
    internal static bool? GaussianProductsOnThisThread
    {
        get => gaussianProductsOnThisThread;
        set => gaussianProductsOnThisThread = value;
    }

    /// <summary>Whether the last kernel matrix the calling thread computed took the products of exponentials (for tests).</summary>
    internal static bool LastKernelUsedGaussianProducts => lastKernelUsedGaussianProducts;

    /// <summary>
    /// The Gaussian kernel k(x, z) = e^(c‖x − z‖²_M), c = −1/(2L²), on centres z whose non-zeros are all 1 (one-hot and
    /// indicator encodings), as a product: e^(c‖x‖²)·e^(c‖z‖²)·Π_t e^(−2c(XM)_{x,t}) over z's non-zeros t, since xᵀMz is
    /// then the sum of (XM)_{x,t}. The n·d + n + m exponentials are computed once per kernel matrix instead of one per entry;
    /// an entry costs a gather and a multiply per non-zero of z and two multiplies.
    /// </summary>
    /// <remarks>
    /// <para>Taken only where every product stays in the normal range: the largest |exponent| of a row factor, plus that of a
    /// column factor, plus the most non-zeros of a centre times the largest |exponent| of an (XM) factor is at most
    /// <see cref="GaussianProductExponentLimit{T}"/> (600 in double, 75 in single precision, against overflow at 709 and
    /// 88); otherwise, or with NaN or infinite entries, each entry takes its exponential. Rounding: each factor's exponent is
    /// rounded as the terms of the exponential path's sum are, each exponential and multiply adds an ulp or so, and that
    /// path's cut-off of squared distances below 64 ulps of ‖x‖² + ‖z‖² to 0 is not made here, so the two agree within about
    /// q + 2 ulps plus 64 ulps times the sum of the exponents' magnitudes (q non-zeros; the tests hold them to 1e-13 relative
    /// in double). Like the cut-off (s ≥ 0), the product is capped at 1, which matters only for a metric that is not
    /// positive semi-definite.</para>
    /// </remarks>
    private sealed class GaussianFactors<T> : IDisposable
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly bool ownsE;

        private GaussianFactors(ManagedBuffer<T> e, bool ownsE, ManagedBuffer<T> x, ManagedBuffer<T> z, T scale) => (E, this.ownsE, X, Z, Scale) = (e, ownsE, x, z, scale);

        /// <summary>e^(−2c(XM)), n × d.</summary>
        public ManagedBuffer<T> E { get; }

        /// <summary>e^(c‖x_i‖²), n.</summary>
        public ManagedBuffer<T> X { get; }

        /// <summary>e^(c‖z_j‖²), m (the same buffer as <see cref="X"/> for K(X, X)).</summary>
        public ManagedBuffer<T> Z { get; }

        /// <summary>c, the derivative weight's factor: ∂k/∂s = c·k.</summary>
        public T Scale { get; }

        /// <summary>
        /// The factors, or null where the kernel, the centres or the exponents' range rule the products out. The range is
        /// checked before anything is allocated. <paramref name="xmOwned"/>: XM is a temporary of the caller that is not read
        /// again, so E is computed over it in place (the caller still disposes it); otherwise E gets a buffer of its own.
        /// </summary>
        public static GaussianFactors<T>? TryCreate<TKernel>(
            CpuBackend backend, TKernel kernel, bool radial, INormDependentKernel? normKernel, SparseRows<T>? sparseZ, ManagedBuffer<T> xm, bool xmOwned, T[]? xNorms, T[]? zNorms, bool same)
            where TKernel : IKernelFunction
        {
            if (typeof(TKernel) != typeof(GaussianKernel) || !radial || normKernel is not null
                || sparseZ is null || !sparseZ.Binary || GaussianProductsOnThisThread == false || xNorms is null || zNorms is null)
            {
                return null;
            }

            T c = KernelMath.Of<T>(System.Runtime.CompilerServices.Unsafe.As<TKernel, GaussianKernel>(ref kernel).Scale);
            T worst = T.Abs(c) * (MaxMagnitude(xNorms) + MaxMagnitude(zNorms) + (T.CreateTruncating(2 * sparseZ.MostPerRow) * MaxMagnitude(xm.Span)));
            if (!(worst <= GaussianProductExponentLimit<T>()))
            {
                return null;
            }

            var e = xmOwned ? xm : (ManagedBuffer<T>)backend.Allocate<T>(xm.Rows, xm.Cols);
            var x = (ManagedBuffer<T>)backend.Allocate<T>(1, xNorms.Length);
            var z = same ? x : (ManagedBuffer<T>)backend.Allocate<T>(1, zNorms.Length);
            TensorPrimitives.Multiply(xm.Span, -(c + c), e.Span);
            TensorPrimitives.Exp(e.Span, e.Span);
            TensorPrimitives.Multiply(xNorms, c, x.Span);
            TensorPrimitives.Exp(x.Span, x.Span);
            if (!same)
            {
                TensorPrimitives.Multiply(zNorms, c, z.Span);
                TensorPrimitives.Exp(z.Span, z.Span);
            }

            return new GaussianFactors<T>(e, !xmOwned, x, z, c);
        }

        /// <summary>
        /// The tile of K at (i0, j0) (leading dimension <paramref name="ld"/>) from the factors. With <paramref name="symmetric"/>
        /// (K(X, X) with a symmetric metric), the part of the tile above the diagonal is then copied from below it, so that the
        /// diagonal blocks are exactly symmetric like the mirrored tiles (the two products of a pair round differently).
        /// </summary>
        public void Tile(SparseRows<T> sparseZ, int i0, int rows, int j0, int cols, T* tileBase, int ld, bool symmetric)
        {
            sparseZ.MultiplyTileExponential(E.Pointer, E.Cols, i0, rows, j0, cols, tileBase, ld, X.Pointer, Z.Pointer, SparseRows<T>.Gathers);
            if (!symmetric)
            {
                return;
            }

            for (int i = Math.Max(i0, j0); i < i0 + rows; i++)
            {
                for (int j = Math.Max(j0, i + 1); j < j0 + cols && j < i0 + rows; j++)
                {
                    tileBase[((long)i * ld) + j] = tileBase[((long)j * ld) + i];
                }
            }
        }

        /// <summary>W = c·K on the tile, row by row from K (leading dimension <paramref name="ld"/>, both).</summary>
        public void Derivatives(T* k, T* w, int ld, int i0, int rows, int j0, int cols)
        {
            for (int i = i0; i < i0 + rows; i++)
            {
                long at = ((long)i * ld) + j0;
                TensorPrimitives.Multiply(new ReadOnlySpan<T>(k + at, cols), Scale, new Span<T>(w + at, cols));
            }
        }

        /// <summary>Returns the buffers to the pool (E only where it is not the caller's XM).</summary>
        public void Dispose()
        {
            if (ownsE)
            {
                E.Dispose();
            }

            if (!ReferenceEquals(X, Z))
            {
                Z.Dispose();
            }

            X.Dispose();
        }

        /// <summary>The largest |v|; NaN if any v is NaN (then the products are not taken).</summary>
        private static T MaxMagnitude(ReadOnlySpan<T> values) => values.IsEmpty ? T.Zero : T.Abs(TensorPrimitives.MaxMagnitude(values));
    }

    /// <summary>The bound on the sum of the exponents' magnitudes in <see cref="GaussianFactors{T}"/>: 600 in double, 75 in single precision.</summary>
    private static T GaussianProductExponentLimit<T>()
        where T : unmanaged, IFloatingPointIeee754<T> => T.CreateTruncating(typeof(T) == typeof(float) ? 75 : 600);
}
