using ILGPU;

namespace FeatureLearning.Backends.Ilgpu.Device;

/// <summary>Scalar arguments of the GEMM kernel: C[cOff + i·ldc + j] ← α·Σ_l op(A)_il op(B)_lj + β·C (lower triangle only if asked).</summary>
/// <typeparam name="T">float or double.</typeparam>
internal struct GemmArgs<T>
    where T : unmanaged
{
    public int M;
    public int N;
    public int K;
    public int Lda;
    public int Ldb;
    public int Ldc;
    public long AOffset;
    public long BOffset;
    public long COffset;
    public int TransA;
    public int TransB;
    public int LowerOnly;
    public int BetaIsZero;
    public T Alpha;
    public T Beta;
}

/// <summary>
/// The device kernels, written once over the element type through <see cref="IScalarOps{T}"/> and over the kernel
/// profile through <see cref="IDeviceProfile"/>. They run on CUDA, OpenCL and ILGPU's CPU accelerator; on CUDA the
/// dense BLAS/LAPACK steps go to cuBLAS and cuSOLVER instead, when those libraries are found.
/// </summary>
/// <remarks>Element-wise kernels use a grid-stride loop with a 64-bit index, so buffers larger than 2³¹ elements work.</remarks>
internal static class Kernels
{
    /// <summary>Edge of the square C tile one GEMM group computes.</summary>
    public const int Tile = 64;

    /// <summary>Depth of one shared-memory step of the GEMM.</summary>
    public const int TileK = 16;

    /// <summary>Threads along each edge of a GEMM group (each thread computes 4 × 4 elements of C).</summary>
    public const int GroupEdge = 16;

    /// <summary>Block size of the device Cholesky factorization and triangular solves (also its group size).</summary>
    public const int CholeskyBlock = 64;

    /// <summary>Tiled shared-memory GEMM: one 64 × 64 tile of C per group of 16 × 16 threads, 4 × 4 per thread, strided so shared reads are conflict-free.</summary>
    public static void Gemm<T, TOps>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, GemmArgs<T> g)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        int tx = Group.IdxX, ty = Group.IdxY;
        int col0 = Grid.IdxX * Tile, row0 = Grid.IdxY * Tile;
        if (g.LowerOnly != 0 && col0 > row0 + Tile - 1)
        {
            return; // the whole tile lies above the diagonal (uniform per group: no barrier is skipped by part of it)
        }

        var sa = SharedMemory.Allocate<T>(Tile * TileK); // sa[l * Tile + i] = op(A)[row0 + i, k0 + l]
        var sb = SharedMemory.Allocate<T>(Tile * TileK); // sb[l * Tile + j] = op(B)[k0 + l, col0 + j]
        int tid = (ty * GroupEdge) + tx;
        T zero = ops.Zero;
        T c00 = zero, c01 = zero, c02 = zero, c03 = zero;
        T c10 = zero, c11 = zero, c12 = zero, c13 = zero;
        T c20 = zero, c21 = zero, c22 = zero, c23 = zero;
        T c30 = zero, c31 = zero, c32 = zero, c33 = zero;
        for (int k0 = 0; k0 < g.K; k0 += TileK)
        {
            for (int q = 0; q < 4; q++)
            {
                int e = tid + (q * GroupEdge * GroupEdge);

                // Consecutive threads read consecutive addresses of A and B in either layout.
                int i, l;
                if (g.TransA == 0)
                {
                    i = e / TileK;
                    l = e % TileK;
                }
                else
                {
                    i = e % Tile;
                    l = e / Tile;
                }

                int gi = row0 + i, gl = k0 + l;
                T va = zero;
                if (gi < g.M && gl < g.K)
                {
                    va = g.TransA == 0 ? a[g.AOffset + ((long)gi * g.Lda) + gl] : a[g.AOffset + ((long)gl * g.Lda) + gi];
                }

                sa[(l * Tile) + i] = va;

                int j;
                if (g.TransB == 0)
                {
                    j = e % Tile;
                    l = e / Tile;
                }
                else
                {
                    j = e / TileK;
                    l = e % TileK;
                }

                int gj = col0 + j;
                gl = k0 + l;
                T vb = zero;
                if (gj < g.N && gl < g.K)
                {
                    vb = g.TransB == 0 ? b[g.BOffset + ((long)gl * g.Ldb) + gj] : b[g.BOffset + ((long)gj * g.Ldb) + gl];
                }

                sb[(l * Tile) + j] = vb;
            }

            Group.Barrier();
            for (int l = 0; l < TileK; l++)
            {
                int ra = (l * Tile) + ty, rb = (l * Tile) + tx;
                T a0 = sa[ra], a1 = sa[ra + 16], a2 = sa[ra + 32], a3 = sa[ra + 48];
                T b0 = sb[rb], b1 = sb[rb + 16], b2 = sb[rb + 32], b3 = sb[rb + 48];
                c00 = ops.Add(c00, ops.Mul(a0, b0));
                c01 = ops.Add(c01, ops.Mul(a0, b1));
                c02 = ops.Add(c02, ops.Mul(a0, b2));
                c03 = ops.Add(c03, ops.Mul(a0, b3));
                c10 = ops.Add(c10, ops.Mul(a1, b0));
                c11 = ops.Add(c11, ops.Mul(a1, b1));
                c12 = ops.Add(c12, ops.Mul(a1, b2));
                c13 = ops.Add(c13, ops.Mul(a1, b3));
                c20 = ops.Add(c20, ops.Mul(a2, b0));
                c21 = ops.Add(c21, ops.Mul(a2, b1));
                c22 = ops.Add(c22, ops.Mul(a2, b2));
                c23 = ops.Add(c23, ops.Mul(a2, b3));
                c30 = ops.Add(c30, ops.Mul(a3, b0));
                c31 = ops.Add(c31, ops.Mul(a3, b1));
                c32 = ops.Add(c32, ops.Mul(a3, b2));
                c33 = ops.Add(c33, ops.Mul(a3, b3));
            }

            Group.Barrier();
        }

        int r0 = row0 + ty, q0 = col0 + tx;
        Store<T, TOps>(c, g, r0, q0, c00);
        Store<T, TOps>(c, g, r0, q0 + 16, c01);
        Store<T, TOps>(c, g, r0, q0 + 32, c02);
        Store<T, TOps>(c, g, r0, q0 + 48, c03);
        Store<T, TOps>(c, g, r0 + 16, q0, c10);
        Store<T, TOps>(c, g, r0 + 16, q0 + 16, c11);
        Store<T, TOps>(c, g, r0 + 16, q0 + 32, c12);
        Store<T, TOps>(c, g, r0 + 16, q0 + 48, c13);
        Store<T, TOps>(c, g, r0 + 32, q0, c20);
        Store<T, TOps>(c, g, r0 + 32, q0 + 16, c21);
        Store<T, TOps>(c, g, r0 + 32, q0 + 32, c22);
        Store<T, TOps>(c, g, r0 + 32, q0 + 48, c23);
        Store<T, TOps>(c, g, r0 + 48, q0, c30);
        Store<T, TOps>(c, g, r0 + 48, q0 + 16, c31);
        Store<T, TOps>(c, g, r0 + 48, q0 + 32, c32);
        Store<T, TOps>(c, g, r0 + 48, q0 + 48, c33);
    }

    private static void Store<T, TOps>(ArrayView<T> c, GemmArgs<T> g, int row, int col, T acc)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        if (row >= g.M || col >= g.N || (g.LowerOnly != 0 && col > row))
        {
            return;
        }

        var ops = default(TOps);
        long index = g.COffset + ((long)row * g.Ldc) + col;
        T value = ops.Mul(g.Alpha, acc);
        c[index] = g.BetaIsZero != 0 ? value : ops.Add(value, ops.Mul(g.Beta, c[index]));
    }

    /// <summary>
    /// Factors the diagonal block A[k0.., k0..] (order nb ≤ 64) in shared memory with one group of 64 threads; a pivot
    /// that is not positive (or NaN) records its global index in info[0] if no earlier pivot failed.
    /// </summary>
    public static void CholeskyDiagonal<T, TOps>(ArrayView<T> a, ArrayView<int> info, int lda, int k0, int nb)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        var s = SharedMemory.Allocate<T>(CholeskyBlock * CholeskyBlock);
        int t = Group.IdxX;
        if (t < nb)
        {
            for (int j = 0; j <= t; j++)
            {
                s[(t * CholeskyBlock) + j] = a[((long)(k0 + t) * lda) + k0 + j];
            }
        }

        Group.Barrier();
        for (int j = 0; j < nb; j++)
        {
            if (t == j)
            {
                T pivot = s[(j * CholeskyBlock) + j];
                if (!ops.Greater(pivot, ops.Zero) && info[0] < 0)
                {
                    info[0] = k0 + j;
                }

                s[(j * CholeskyBlock) + j] = ops.Sqrt(pivot);
            }

            Group.Barrier();
            if (t > j && t < nb)
            {
                s[(t * CholeskyBlock) + j] = ops.Div(s[(t * CholeskyBlock) + j], s[(j * CholeskyBlock) + j]);
            }

            Group.Barrier();
            if (t > j && t < nb)
            {
                T ltj = s[(t * CholeskyBlock) + j];
                for (int l = j + 1; l <= t; l++)
                {
                    s[(t * CholeskyBlock) + l] = ops.Sub(s[(t * CholeskyBlock) + l], ops.Mul(ltj, s[(l * CholeskyBlock) + j]));
                }
            }

            Group.Barrier();
        }

        if (t < nb)
        {
            for (int j = 0; j <= t; j++)
            {
                a[((long)(k0 + t) * lda) + k0 + j] = s[(t * CholeskyBlock) + j];
            }
        }
    }

    /// <summary>The panel below a factored diagonal block: L21 = A21·L11⁻ᵀ, one row per thread, L11 in shared memory.</summary>
    public static void CholeskyPanel<T, TOps>(ArrayView<T> a, int n, int lda, int k0, int nb)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        var s = SharedMemory.Allocate<T>(CholeskyBlock * CholeskyBlock);
        int t = Group.IdxX;
        for (int e = t; e < nb * nb; e += CholeskyBlock)
        {
            int i = e / nb, j = e % nb;
            if (j <= i)
            {
                s[(i * CholeskyBlock) + j] = a[((long)(k0 + i) * lda) + k0 + j];
            }
        }

        Group.Barrier();
        int row = k0 + nb + (Grid.IdxX * CholeskyBlock) + t;
        if (row < n)
        {
            long baseIndex = ((long)row * lda) + k0;
            for (int j = 0; j < nb; j++)
            {
                T x = a[baseIndex + j];
                for (int l = 0; l < j; l++)
                {
                    x = ops.Sub(x, ops.Mul(a[baseIndex + l], s[(j * CholeskyBlock) + l]));
                }

                a[baseIndex + j] = ops.Div(x, s[(j * CholeskyBlock) + j]);
            }
        }
    }

    /// <summary>Forward substitution with the diagonal block L[k0.., k0..] on rows k0..k0+nb of B, one column per thread.</summary>
    public static void ForwardBlock<T, TOps>(Index1D column, ArrayView<T> l, ArrayView<T> b, int ldl, int ldb, int k0, int nb)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        for (int i = 0; i < nb; i++)
        {
            long li = (long)(k0 + i) * ldl;
            T x = b[((long)(k0 + i) * ldb) + column];
            for (int j = 0; j < i; j++)
            {
                x = ops.Sub(x, ops.Mul(l[li + k0 + j], b[((long)(k0 + j) * ldb) + column]));
            }

            b[((long)(k0 + i) * ldb) + column] = ops.Div(x, l[li + k0 + i]);
        }
    }

    /// <summary>Back substitution with the transposed diagonal block L[k0.., k0..]ᵀ on rows k0..k0+nb of B, one column per thread.</summary>
    public static void BackwardBlock<T, TOps>(Index1D column, ArrayView<T> l, ArrayView<T> b, int ldl, int ldb, int k0, int nb)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        for (int i = nb - 1; i >= 0; i--)
        {
            T x = b[((long)(k0 + i) * ldb) + column];
            for (int j = i + 1; j < nb; j++)
            {
                x = ops.Sub(x, ops.Mul(l[((long)(k0 + j) * ldl) + k0 + i], b[((long)(k0 + j) * ldb) + column]));
            }

            b[((long)(k0 + i) * ldb) + column] = ops.Div(x, l[((long)(k0 + i) * ldl) + k0 + i]);
        }
    }

    /// <summary>
    /// One thread per system s of a batched ridge solve (<c>IComputeBackend.BatchedRidgeSolve</c>): gathers the lower triangle
    /// of P[I_s, I_s] + λI into its k × k block of <paramref name="factors"/>, factors it in place (unblocked Cholesky) and
    /// solves its k × m block of <paramref name="b"/> in place. status[s] ← −1, or the first pivot that was not positive or
    /// not finite (the block is then left unsolved). <paramref name="layout"/> holds the S + 1 starts, the S counts m_s and
    /// the indices; <paramref name="offsets"/> the S + 1 right-hand-side offsets, then the S + 1 factor offsets.
    /// </summary>
    public static void BatchedRidgeSolve<T, TOps>(Index1D s, ArrayView<T> p, ArrayView<T> factors, ArrayView<T> b, ArrayView<int> layout, ArrayView<long> offsets, ArrayView<int> status, int count, int ldp, T ridge)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        int start = layout[s.X], k = layout[s.X + 1] - start, m = layout[count + 1 + s.X];
        int indexBase = (2 * count) + 1 + start;
        long b0 = offsets[s.X], a0 = offsets[count + 1 + s.X];
        for (int r = 0; r < k; r++)
        {
            long pr = (long)layout[indexBase + r] * ldp;
            for (int c = 0; c <= r; c++)
            {
                factors[a0 + (r * k) + c] = p[pr + layout[indexBase + c]];
            }

            factors[a0 + (r * k) + r] = ops.Add(factors[a0 + (r * k) + r], ridge);
        }

        for (int j = 0; j < k; j++)
        {
            T pivot = factors[a0 + (j * k) + j];
            for (int q = 0; q < j; q++)
            {
                pivot = ops.Sub(pivot, ops.Mul(factors[a0 + (j * k) + q], factors[a0 + (j * k) + q]));
            }

            double v = ops.ToDouble(pivot);
            if (!(v > 0.0) || !(v - v == 0.0))
            {
                status[s] = j;
                return;
            }

            T ljj = ops.Sqrt(pivot);
            factors[a0 + (j * k) + j] = ljj;
            for (int i = j + 1; i < k; i++)
            {
                T x = factors[a0 + (i * k) + j];
                for (int q = 0; q < j; q++)
                {
                    x = ops.Sub(x, ops.Mul(factors[a0 + (i * k) + q], factors[a0 + (j * k) + q]));
                }

                factors[a0 + (i * k) + j] = ops.Div(x, ljj);
            }
        }

        for (int c = 0; c < m; c++)
        {
            for (int i = 0; i < k; i++)
            {
                T x = b[b0 + (i * m) + c];
                for (int q = 0; q < i; q++)
                {
                    x = ops.Sub(x, ops.Mul(factors[a0 + (i * k) + q], b[b0 + (q * m) + c]));
                }

                b[b0 + (i * m) + c] = ops.Div(x, factors[a0 + (i * k) + i]);
            }

            for (int i = k - 1; i >= 0; i--)
            {
                T x = b[b0 + (i * m) + c];
                for (int q = i + 1; q < k; q++)
                {
                    x = ops.Sub(x, ops.Mul(factors[a0 + (q * k) + i], b[b0 + (q * m) + c]));
                }

                b[b0 + (i * m) + c] = ops.Div(x, factors[a0 + (i * k) + i]);
            }
        }

        status[s] = -1;
    }

    /// <summary>info[0] ← the first index i with A_ii not positive or not finite, if info[0] is still -1 (atomic minimum over offending indices).</summary>
    public static void CheckDiagonal<T, TOps>(Index1D i, ArrayView<T> a, ArrayView<int> info, int lda)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        double v = ops.ToDouble(a[((long)i.X * lda) + i.X]);
        if (!(v > 0) || !(v - v == 0))
        {
            Atomic.Min(ref info[1], i.X);
        }
    }

    /// <summary>Restores a matrix whose lower triangle was overwritten: A_ij ← A_ji below the diagonal, A_ii ← d_i + jitter.</summary>
    public static void RestoreLower<T, TOps>(Index2D index, ArrayView<T> a, ArrayView<T> diagonal, int n, T jitter)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        int i = index.Y, j = index.X;
        if (j < i)
        {
            a[((long)i * n) + j] = a[((long)j * n) + i];
        }
        else if (j == i)
        {
            a[((long)i * n) + i] = default(TOps).Add(diagonal[i], jitter);
        }
    }

    /// <summary>Copies the lower triangle onto the upper one.</summary>
    public static void MirrorLower<T>(Index2D index, ArrayView<T> a, int n)
        where T : unmanaged
    {
        int i = index.Y, j = index.X;
        if (j > i)
        {
            a[((long)i * n) + j] = a[((long)j * n) + i];
        }
    }

    /// <summary>d_i ← A_ii.</summary>
    public static void ReadDiagonal<T>(Index1D i, ArrayView<T> a, ArrayView<T> diagonal, int n)
        where T : unmanaged => diagonal[i] = a[((long)i.X * n) + i.X];

    /// <summary>
    /// The kernel-matrix epilogue: from the GEMM result G (overwritten by K) and, for radial kernels, the row norms,
    /// u = max(‖x_i‖² + ‖z_j‖² − 2G_ij, 0) (0 below the rounding level of the GEMM) or u = G_ij, then K = k(u) and
    /// optionally W = ∂k/∂u; the profile is evaluated in double precision. The tolerance is 64 ulps of the element type,
    /// as in the CPU backends.
    /// </summary>
    public static void KernelEpilogue<T, TOps, TProfile>(
        Index2D index, ArrayView<T> g, ArrayView<T> xNorms, ArrayView<T> zNorms, ArrayView<T> weights, int m, int radial, int withWeights, double tolerance, double valueAtZero, double derivativeAtZero, TProfile profile)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
        where TProfile : struct, IDeviceProfile
    {
        var ops = default(TOps);
        int i = index.Y, j = index.X;
        long e = ((long)i * m) + j;
        double u = ops.ToDouble(g[e]);
        if (radial != 0)
        {
            double sum = ops.ToDouble(xNorms[i]) + ops.ToDouble(zNorms[j]);
            double v = ops.ToDouble(ops.Sub(ops.Add(xNorms[i], zNorms[j]), ops.Mul(ops.FromDouble(2.0), g[e])));
            u = v > tolerance * sum ? v : 0.0;
        }

        // At zero distance the host's own k(0) and ∂k/∂u(0) are used, so the diagonal of K(X, X) is exact whatever the
        // device's exp and sqrt give there.
        bool atZero = radial != 0 && u == 0.0;
        g[e] = ops.FromDouble(atZero ? valueAtZero : profile.Value(u));
        if (withWeights != 0)
        {
            weights[e] = ops.FromDouble(atZero ? derivativeAtZero : profile.Derivative(u));
        }
    }

    /// <summary>x ← αx (α = 0 writes exact zeros).</summary>
    public static void Scale<T, TOps>(Index1D start, ArrayView<T> x, T alpha, int zero, long length, int stride)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        for (long i = start.X; i < length; i += stride)
        {
            x[i] = zero != 0 ? ops.Zero : ops.Mul(alpha, x[i]);
        }
    }

    /// <summary>
    /// One element (row index.Y, column index.X) of a strided block operation: mode 0 copies y ← x, 1 adds y ← αx + y, 2
    /// scales y ← αy, 3 clears y ← 0; x and y start at their element (0, 0) and have row strides ldx and ldy.
    /// </summary>
    public static void Strided<T, TOps>(Index2D index, ArrayView<T> x, ArrayView<T> y, int ldx, int ldy, T alpha, int mode)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        long yi = ((long)index.Y * ldy) + index.X;
        if (mode == 0)
        {
            y[yi] = x[((long)index.Y * ldx) + index.X];
        }
        else if (mode == 1)
        {
            y[yi] = ops.Add(ops.Mul(alpha, x[((long)index.Y * ldx) + index.X]), y[yi]);
        }
        else if (mode == 2)
        {
            y[yi] = ops.Mul(alpha, y[yi]);
        }
        else
        {
            y[yi] = ops.Zero;
        }
    }

    /// <summary>y ← αx + y.</summary>
    public static void Axpy<T, TOps>(Index1D start, ArrayView<T> x, ArrayView<T> y, T alpha, long length, int stride)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        for (long i = start.X; i < length; i += stride)
        {
            y[i] = ops.Add(ops.Mul(alpha, x[i]), y[i]);
        }
    }

    /// <summary>c ← a ∘ b over rows of <paramref name="cols"/> elements with row strides lda, ldb, ldc (each view starts at its element (0, 0)).</summary>
    public static void Hadamard<T, TOps>(Index1D start, ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, int cols, int lda, int ldb, int ldc, long length, int stride)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        for (long e = start.X; e < length; e += stride)
        {
            long i = e / cols, j = e % cols;
            c[(i * ldc) + j] = ops.Mul(a[(i * lda) + j], b[(i * ldb) + j]);
        }
    }

    /// <summary>A_ij ← A_ij·v_j (columns) or A_ij ← v_i·A_ij (rows), A with row stride lda; element k of v is v[k·vStride] (a column view of a wider matrix has vStride &gt; 1).</summary>
    public static void ScaleByVector<T, TOps>(Index1D start, ArrayView<T> a, ArrayView<T> v, int cols, int lda, int byRow, long length, int vStride, int stride)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        for (long e = start.X; e < length; e += stride)
        {
            long i = e / cols, j = e % cols;
            long at = (i * lda) + j;
            a[at] = ops.Mul(a[at], v[(byRow != 0 ? i : j) * vStride]);
        }
    }

    /// <summary>D[i, t] ← A[i, columns[t]] (D is rows × width), with row strides lda and ldd.</summary>
    public static void GatherColumns<T>(Index1D start, ArrayView<T> a, ArrayView<int> columns, ArrayView<T> d, int width, int lda, int ldd, long length, int stride)
        where T : unmanaged
    {
        for (long e = start.X; e < length; e += stride)
        {
            long i = e / width, t = e % width;
            d[(i * ldd) + t] = a[(i * lda) + columns[t]];
        }
    }

    /// <summary>R[i, k·d + j] ← A[i, k]·B[i, j] (R is n × c·d), with row strides lda, ldb, ldr.</summary>
    public static void RowKronecker<T, TOps>(Index1D start, ArrayView<T> a, ArrayView<T> b, ArrayView<T> r, int c, int d, int lda, int ldb, int ldr, long length, int stride)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        long width = (long)c * d;
        for (long e = start.X; e < length; e += stride)
        {
            long i = e / width, rest = e % width;
            long k = rest / d, j = rest % d;
            r[(i * ldr) + rest] = ops.Mul(a[(i * lda) + k], b[(i * ldb) + j]);
        }
    }

    /// <summary>R[I, J] ← scale · Σ_{r &lt; rowGroup} Σ_{s &lt; colGroup} A[I·rowGroup + r, J·colGroup + s], one result element per thread (X = J).</summary>
    public static void BlockSum<T, TOps>(Index2D index, ArrayView<T> a, ArrayView<T> result, int lda, int ldr, int rowGroup, int colGroup, T scale)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        int i = index.Y, j = index.X;
        T sum = ops.Zero;
        for (int r = 0; r < rowGroup; r++)
        {
            long row = ((((long)i * rowGroup) + r) * lda) + ((long)j * colGroup);
            for (int s = 0; s < colGroup; s++)
            {
                sum = ops.Add(sum, a[row + s]);
            }
        }

        result[((long)i * ldr) + j] = ops.Mul(sum, scale);
    }

    /// <summary>A_ii ← A_ii + value (row stride n).</summary>
    public static void AddDiagonal<T, TOps>(Index1D i, ArrayView<T> a, int n, T value)
        where T : unmanaged
        where TOps : struct, IScalarOps<T> => a[((long)i.X * n) + i.X] = default(TOps).Add(a[((long)i.X * n) + i.X], value);

    /// <summary>r_i ← Σ_j A_ij B_ij, one row per thread; A and B with row strides lda and ldb, element i of r at r[i·rStride].</summary>
    public static void RowDot<T, TOps>(Index1D i, ArrayView<T> a, ArrayView<T> b, ArrayView<T> r, int cols, int lda, int ldb, int rStride)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        T sum = ops.Zero;
        long rowA = (long)i.X * lda, rowB = (long)i.X * ldb;
        for (int j = 0; j < cols; j++)
        {
            sum = ops.Add(sum, ops.Mul(a[rowA + j], b[rowB + j]));
        }

        r[(long)i.X * rStride] = sum;
    }

    /// <summary>
    /// partial_t ← Σ a_e b_e over the elements e ≡ t (mod stride), accumulated in double; the host sums the partials. Element
    /// e is (e / cols, e mod cols), A and B with row strides lda and ldb.
    /// </summary>
    public static void DotPartials<T, TOps>(Index1D start, ArrayView<T> a, ArrayView<T> b, ArrayView<double> partials, int cols, int lda, int ldb, long length, int stride)
        where T : unmanaged
        where TOps : struct, IScalarOps<T>
    {
        var ops = default(TOps);
        double sum = 0;
        for (long e = start.X; e < length; e += stride)
        {
            long i = e / cols, j = e % cols;
            sum += ops.ToDouble(a[(i * lda) + j]) * ops.ToDouble(b[(i * ldb) + j]);
        }

        partials[start] = sum;
    }
}
