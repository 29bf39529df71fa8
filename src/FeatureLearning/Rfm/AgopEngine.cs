using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.Rfm;

/// <summary>
/// The AGOP of a kernel predictor f_k(x) = Σ_i α_ik k_M(x, x_i), G = (1/m) Σ_{j∈S} Σ_k ∇f_k(x_j)∇f_k(x_j)ᵀ, from
/// GEMMs and blocked elementwise work only.
/// </summary>
/// <remarks>
/// <para>With W the matrix of ∂k/∂u over (sample, centre) pairs and W' = 2W for radial kernels (∇ₓk = 2φ'(s)M(x − z)),
/// W' = W for dot-product kernels (∇ₓk = ψ'(u)Mz): ∇f_k(x_j) = M(s_jk x_j − t_jk), S = W'α, t_jk = Σ_i W'_ji α_ik x_i
/// (s = 0 for dot-product kernels). A norm-dependent kernel κ(u, a, b) (∇ₓk = ∂κ/∂u·Mz + 2∂κ/∂a·Mx) has the same form
/// with W' = −∂κ/∂u and S = 2(∂κ/∂a)α: everything below holds for it unchanged. So G = M H M with H = (1/m) Σ_jk (s_jk x_j − t_jk)(s_jk x_j − t_jk)ᵀ, which the
/// Gram form evaluates as X_sᵀdiag(q)X_s − X_sᵀCX_c − X_cᵀCᵀX_s + X_cᵀ[(W'ᵀW') ∘ (ααᵀ)]X_c with q_j = Σ_k s_jk²
/// and C = W' ∘ (Sαᵀ), and the direct form from the gradients one output at a time.</para>
/// <para>The sparse direct form exploits sparse centres: component l of t_jk is Σ_{i∈I_l} W'_ji α_ik (X_c)_il over the rows
/// I_l where column l of X_c is non-zero, so with the columns W'[:, I_l] gathered into a contiguous block, one GEMM per input
/// column gives that component for every output and sample row (2mc·nnz(X_c) flops in all instead of 2mncd). The gradients
/// s_jk x_j − t_jk of a chunk of sample rows are laid out as a d × (c·rows) matrix R (row l: component l, output-major),
/// so H += RRᵀ is one SYRK (mcd² flops); chunks keep R and the gathered weights within <see cref="SparseChunkElements"/>
/// elements each.</para>
/// <para>Every form reads the derivative weights W without scaling them: the factor f of W' = f·W (2, −1 or 1) goes into the
/// coefficients and the GEMMs' α.</para>
/// <para>Centring subtracts the mean gradient per output: with w = W'ᵀ1, Σ_j (s_jk x_j − t_jk) = X_sᵀS_k − X_cᵀ(w ∘ α_k),
/// so H_centred = H − ḠḠᵀ with Ḡ = (1/m)(X_sᵀS − X_cᵀ diag(w) α), a d × c matrix.</para>
/// <para>Self-pairs at zero distance carry W = 0 for kernels not differentiable there (the backends' kernel matrix
/// contract), which omits them.</para>
/// </remarks>
internal static class AgopEngine
{
    /// <summary>
    /// Elements of the sparse direct form's gradient chunk (d × c·rows, the sample rows per chunk chosen to fit) and of its
    /// gathered derivative weights: 2²² (32 MiB in double precision) each.
    /// </summary>
    internal const int SparseChunkElements = 1 << 22;

    [ThreadStatic]
    private static int chunkElementsOnThisThread;

    /// <summary>
    /// The chunk bound in elements that the sparse direct form uses on the calling thread: <see cref="SparseChunkElements"/>
    /// unless set (0 restores it); tests shrink it to exercise several chunks and column groups on small problems.
    /// </summary>
    internal static int ChunkElements
    {
        get => chunkElementsOnThisThread > 0 ? chunkElementsOnThisThread : SparseChunkElements;
        set => chunkElementsOnThisThread = value;
    }

    [ThreadStatic]
    private static bool? sparseKernelOnThisThread;

    /// <summary>
    /// Whether the register-blocked sparse kernel reads S = W'α off its gradients where X_c has a one-hot group of columns
    /// (<see cref="SparseColumns.OneHotGroup"/>) and the kernel is radial, instead of a GEMM over W' (null, the default: it does;
    /// tests set false to compare). Per thread, read on the thread that computes the AGOP.
    /// </summary>
    internal static bool? DeriveCoefficients
    {
        get => deriveCoefficients;
        set => deriveCoefficients = value;
    }

    [ThreadStatic]
    private static bool? deriveCoefficients;

    /// <summary>
    /// Whether the sparse direct form runs its gradients through <see cref="FeatureLearning.Compute.Managed.SparseGradientKernel{T}"/> on the
    /// calling thread: null (the default) where that kernel runs and there are enough outputs to fill its register block,
    /// false for the gather-and-GEMM path on every backend; tests set it to check one path against the other.
    /// </summary>
    internal static bool? SparseKernel
    {
        get => sparseKernelOnThisThread;
        set => sparseKernelOnThisThread = value;
    }

    [ThreadStatic]
    private static bool? weightsFromKernelOnThisThread;

    /// <summary>
    /// Whether <see cref="ReadsWeightsFromKernel{T}"/> may answer yes on the calling thread: null (the default) where its
    /// conditions hold, false never (the RFM then computes and stores W); tests and measurements set false to compare.
    /// </summary>
    internal static bool? WeightsFromKernel
    {
        get => weightsFromKernelOnThisThread;
        set => weightsFromKernelOnThisThread = value;
    }

    [ThreadStatic]
    private static bool? directTransposedOnThisThread;

    /// <summary>
    /// Whether the dense direct form may build its gradients transposed on the calling thread (where d rows waste less of
    /// the managed GEMM's register tiles than d columns): null (the default) on the managed backend only, true on every
    /// backend, false never; tests set it to check one layout against the other.
    /// </summary>
    internal static bool? DirectTransposed
    {
        get => directTransposedOnThisThread;
        set => directTransposedOnThisThread = value;
    }

    [ThreadStatic]
    private static bool? foldCoefficientsOnThisThread;

    /// <summary>
    /// Whether the dense direct form with one output and a radial kernel reads S = W'α (and, where the centring folds them,
    /// W'1) off its gradients' GEMM on the calling thread, as one or two more columns of its right operand, instead of a pass
    /// over W of their own (null, the default: it does); tests and the measurement set false to compare.
    /// </summary>
    internal static bool? FoldCoefficients
    {
        get => foldCoefficientsOnThisThread;
        set => foldCoefficientsOnThisThread = value;
    }

    /// <summary>Flop estimates of the two dense forms.</summary>
    public static (double Direct, double Gram) Cost(int m, int n, int d, int c)
    {
        double direct = (c * ((2.0 * m * n * d) + ((double)m * d * d))) + (2.0 * m * n * c);
        double gram = ((double)m * n * n) + ((double)n * n * c) + (4.0 * m * n * c) + (2.0 * m * n * d) + (2.0 * n * n * d) + (4.0 * m * d * d);
        return (direct, gram);
    }

    /// <summary>
    /// Flop estimate of the sparse direct form with <paramref name="nonZeros"/> non-zero entries in X_c: S = W'α, the gathered
    /// GEMMs 2mc·nnz, the SYRK of the m·c gradients (mcd²), and the element-wise work on the gathered weights and gradients.
    /// </summary>
    public static double SparseCost(int m, int n, int d, int c, long nonZeros) =>
        (2.0 * m * n * c) + (2.0 * m * c * nonZeros) + ((double)m * c * d * d) + (2.0 * m * c * d) + ((double)m * nonZeros);

    public static AgopForm Resolve(AgopForm form, int m, int n, int d, int c) => Resolve(form, m, n, d, c, null);

    /// <summary>
    /// The form to evaluate: <paramref name="form"/> unless it is <see cref="AgopForm.Auto"/>, else the cheapest by the flop
    /// counts, the sparse direct form competing only when the centres' pattern <paramref name="sparsity"/> is known and at
    /// most <see cref="SparseColumns.DensityLimit"/> of X_c is non-zero.
    /// </summary>
    public static AgopForm Resolve(AgopForm form, int m, int n, int d, int c, SparseColumns? sparsity)
    {
        if (form != AgopForm.Auto)
        {
            return form;
        }

        var (direct, gram) = Cost(m, n, d, c);
        var dense = direct <= gram ? AgopForm.Direct : AgopForm.Gram;
        if (sparsity is not null && sparsity.NonZeros <= SparseColumns.DensityLimit * n * d && SparseCost(m, n, d, c, sparsity.NonZeros) < Math.Min(direct, gram))
        {
            return AgopForm.SparseDirect;
        }

        return dense;
    }

    /// <summary>
    /// Computes the d × d AGOP (row-major, double) of the predictor with centres <paramref name="xc"/> and coefficients
    /// <paramref name="alpha"/> at the sample <paramref name="xs"/>, given the derivative weights
    /// <paramref name="weights"/> (m × n, ∂k/∂u; only read).
    /// <paramref name="sparsity"/> is the non-zero pattern of X_c when the caller knows it (detected once per fit); under
    /// <see cref="AgopForm.Auto"/> only a known pattern lets the sparse direct form be chosen, and an explicit
    /// <see cref="AgopForm.SparseDirect"/> without one downloads X_c to find it.
    /// </summary>
    public static double[] Compute<T>(
        IComputeBackend backend, IKernelFunction kernel, Metric metric, DeviceBuffer<T>? metricBuffer,
        DeviceBuffer<T> xs, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, DeviceBuffer<T> weights, bool centre, AgopForm form, CancellationToken cancellationToken,
        SparseColumns? sparsity = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The sample is the centre set itself: a radial kernel's W' is then symmetric (W'ᵀ1 = W'1), up to rounding where the
        // backend does not mirror it. Only kernels differentiable at 0 take this: the others' weights grow without bound as
        // u → 0, and for near-duplicate points one side of W can be clamped to 0 (u rounded below 0) while the other is large.
        bool symmetric = ReferenceEquals(xs, xc) && kernel.Geometry == KernelGeometry.Radial && kernel.IsDifferentiableAtZero;
        using var accumulator = new Accumulator<T>(backend, kernel, xc, alpha, xs.Rows, centre, form, sparsity, symmetric);
        accumulator.Add(xs, weights, cancellationToken);
        return accumulator.Finish(metric, metricBuffer, cancellationToken);
    }

    /// <summary>
    /// Whether the AGOP at the centres themselves (the sample X_c, n × d, with c outputs) can read its derivative weights off
    /// the strict upper triangle of the kernel matrix K(X_c, X_c) (<see cref="ComputeFromKernel{T}"/>), so that the caller
    /// need not compute or store W: for the Gaussian kernel (∂k/∂u = −k/(2L²), a multiple of k), on a CPU backend where the
    /// sparse direct form runs its register-blocked kernel, with a one-hot group of columns in X_c so that S = W'α is read
    /// off the gradients (<see cref="SparseColumns.OneHotGroup"/>) and W is read nowhere else; not where
    /// <see cref="WeightsFromKernel"/> or <see cref="DeriveCoefficients"/> is false on this thread.
    /// </summary>
    public static bool ReadsWeightsFromKernel<T>(IComputeBackend backend, IKernelFunction kernel, int n, int d, int c, AgopForm form, SparseColumns? sparsity)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (WeightsFromKernel ?? true) && CanReadWeightsFromKernel<T>(backend, kernel, n, d, c, form, sparsity);

    /// <summary><see cref="ReadsWeightsFromKernel{T}"/> without the <see cref="WeightsFromKernel"/> switch: whether the path can run.</summary>
    private static bool CanReadWeightsFromKernel<T>(IComputeBackend backend, IKernelFunction kernel, int n, int d, int c, AgopForm form, SparseColumns? sparsity)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (DeriveCoefficients ?? true) && kernel is GaussianKernel && sparsity?.OneHotGroup is not null
        && sparsity.RowCount == n && sparsity.ColumnCount == d && Resolve(form, n, n, d, c, sparsity) == AgopForm.SparseDirect
        && Accumulator<T>.UsesSparseKernel(backend, c, d);

    [ThreadStatic]
    private static int kernelWeightReadsOnThisThread;

    /// <summary>How many AGOPs <see cref="ComputeFromKernel{T}"/> has computed on the calling thread (tests check that a fit took that path).</summary>
    internal static int KernelWeightReads => kernelWeightReadsOnThisThread;

    /// <summary>
    /// The AGOP of <see cref="Compute{T}"/> at the centres themselves, with the derivative weights read off the strict upper
    /// triangle of the kernel matrix <paramref name="kernelMatrix"/> = K(X_c, X_c) (n × n) instead of a stored W: its lower
    /// triangle and diagonal may hold a Cholesky factor (the CPU backends' factorizations leave the strict upper triangle as
    /// it was; the mixed-precision solve leaves all of K + λI). W[i, j] = −K[i, j]/(2L²) off the diagonal; the diagonal's
    /// term drops out of the gradient at x_i (whose factor x_i − x_i is zero), and the weights read it as zero.
    /// </summary>
    /// <remarks>The <see cref="WeightsFromKernel"/> switch is not read here (a caller that decided once keeps its decision);
    /// <see cref="DeriveCoefficients"/> is, and turning it off between a caller's decision and this call throws.</remarks>
    /// <exception cref="InvalidOperationException">The path cannot run (<see cref="ReadsWeightsFromKernel{T}"/> without its switch).</exception>
    public static double[] ComputeFromKernel<T>(
        IComputeBackend backend, IKernelFunction kernel, Metric metric, DeviceBuffer<T>? metricBuffer,
        DeviceBuffer<T> xc, DeviceBuffer<T> alpha, DeviceBuffer<T> kernelMatrix, bool centre, AgopForm form, SparseColumns sparsity, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = xc.Rows;
        if (!CanReadWeightsFromKernel<T>(backend, kernel, n, xc.Cols, alpha.Cols, form, sparsity) || kernelMatrix.Rows != n || kernelMatrix.Cols != n)
        {
            throw new InvalidOperationException($"The AGOP cannot read its weights off this {kernelMatrix.Rows} x {kernelMatrix.Cols} kernel matrix for {n} centres with {kernel}.");
        }

        using var accumulator = new Accumulator<T>(backend, kernel, xc, alpha, n, centre, form, sparsity, symmetricWeights: true);
        accumulator.AddFromKernel(xc, kernelMatrix, KernelMath.Of<T>(((GaussianKernel)kernel).Scale), cancellationToken);
        var g = accumulator.Finish(metric, metricBuffer, cancellationToken);
        kernelWeightReadsOnThisThread++;
        return g;
    }

    /// <summary>
    /// The same AGOP with the sample taken <paramref name="blockRows"/> rows at a time from the host array
    /// <paramref name="points"/> (m × d, row-major), each block uploaded into one blockRows × d buffer: the derivative
    /// weights of one block (blockRows × n) are computed, added and dropped, so the device holds two blockRows × n buffers
    /// instead of the m × n weights.
    /// </summary>
    public static double[] ComputeBlocked<T>(
        IComputeBackend backend, IKernelFunction kernel, Metric metric, DeviceBuffer<T>? metricBuffer,
        ReadOnlyMemory<T> points, int m, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, bool centre, AgopForm form, int blockRows, CancellationToken cancellationToken,
        SparseColumns? sparsity = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var xb = backend.Allocate<T>(Math.Min(blockRows, m), xc.Cols);
        return Blocked(backend, kernel, metric, metricBuffer, m, xc, alpha, centre, form, blockRows, (i0, rows) =>
        {
            var rowsOfBlock = xb.RowRange(0, rows);
            backend.Upload(points.Span.Slice(i0 * xc.Cols, rows * xc.Cols), rowsOfBlock);
            return rowsOfBlock;
        }, sparsity, cancellationToken);
    }

    /// <summary>
    /// The same AGOP with the sample <paramref name="points"/> (m × d) already on the device, taken
    /// <paramref name="blockRows"/> rows at a time as row views: nothing is uploaded.
    /// </summary>
    public static double[] ComputeBlocked<T>(
        IComputeBackend backend, IKernelFunction kernel, Metric metric, DeviceBuffer<T>? metricBuffer,
        DeviceBuffer<T> points, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, bool centre, AgopForm form, int blockRows, CancellationToken cancellationToken,
        SparseColumns? sparsity = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Blocked(backend, kernel, metric, metricBuffer, points.Rows, xc, alpha, centre, form, blockRows, points.RowRange, sparsity, cancellationToken);

    /// <summary>The blocked AGOP over the sample blocks <paramref name="block"/>(first row, rows), each a rows × d device buffer.</summary>
    private static double[] Blocked<T>(
        IComputeBackend backend, IKernelFunction kernel, Metric metric, DeviceBuffer<T>? metricBuffer,
        int m, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, bool centre, AgopForm form, int blockRows, Func<int, int, DeviceBuffer<T>> block,
        SparseColumns? sparsity, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = xc.Rows;
        using var accumulator = new Accumulator<T>(backend, kernel, xc, alpha, m, centre, form, sparsity, symmetricWeights: false);
        using var k = backend.Allocate<T>(Math.Min(blockRows, m), n);
        using var w = backend.Allocate<T>(Math.Min(blockRows, m), kernel.DerivativeWeightColumns(n));
        for (int i0 = 0; i0 < m; i0 += blockRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(blockRows, m - i0);
            var (xb, kb, wb) = (block(i0, rows), k.RowRange(0, rows), w.RowRange(0, rows));
            backend.KernelMatrix(kernel, xb, xc, metricBuffer, kb, wb);
            accumulator.Add(xb, wb, cancellationToken);
        }

        return accumulator.Finish(metric, metricBuffer, cancellationToken);
    }

    /// <summary>
    /// Sums the AGOP over blocks of sample rows. Every term of both forms is a sum over the sample: the direct form's
    /// Σ_j g_jk g_jkᵀ, the Gram form's X_sᵀdiag(q)X_s and X_sᵀCX_c (row sums) and W'ᵀW' = Σ_b W'_bᵀW'_b, and the
    /// centring sums X_sᵀS and W'ᵀ1, and the sparse direct form's Σ_jk g_jk g_jkᵀ. The form is chosen once from the whole
    /// sample size, so a blocked evaluation takes the same formula as an unblocked one.
    /// </summary>
    private sealed class Accumulator<T> : IDisposable
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly IComputeBackend be;
        private readonly DeviceBuffer<T> xc, alpha, h;
        private readonly int m, n, d, c;
        private readonly KernelGeometry geometry;
        private readonly AgopForm form;
        private readonly bool batched;

        // Gram form: Σ_b W'_bᵀW'_b (n × n). Batched direct form: α⊗X_c (n × c·d).
        // Centring: Σ_b X_bᵀS_b (d × c) and Σ_b W'_bᵀ1 (n × 1).
        private readonly DeviceBuffer<T>? p, kron, sumXs, sumW;

        // Sparse direct form: the pattern of X_c, Bᵀ (c × nnz, Bᵀ[k, t] = f·v_t·α[i_t, k] for the t-th non-zero v_t at row i_t,
        // column by column, with f the factor that turns ∂k/∂u into W').
        private readonly SparseColumns? sparse;
        private readonly DeviceBuffer<T>? bt;

        // The d × d identity for the transposes X_sᵀ (sparse direct and transposed direct forms), uploaded on first use.
        private DeviceBuffer<T>? identity;

        // Sparse direct form through the register-blocked kernel (CPU backends): −B packed by output block.
        private readonly CpuBackend? cpu;
        private T[]? packed;

        // Centring with a symmetric W' (radial kernel, the sample the centres themselves): [α | 1] (n × (c + 1)), so that one
        // product f·W[α | 1] gives S and the row sums W'1 = W'ᵀ1 together, one pass over W instead of two.
        private readonly DeviceBuffer<T>? alphaOnes;
        private bool any;

        // symmetricWeights: W' is symmetric up to rounding and its rows are the sample's (the sample is the centre set, the same
        // buffer, and the kernel radial and differentiable at 0); only an unblocked Add of all n rows follows (checked there).
        public Accumulator(
            IComputeBackend backend, IKernelFunction kernel, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, int sampleRows, bool centre, AgopForm form, SparseColumns? sparsity,
            bool symmetricWeights)
        {
            (be, this.xc, this.alpha) = (backend, xc, alpha);
            (m, n, d, c) = (sampleRows, xc.Rows, xc.Cols, alpha.Cols);
            geometry = kernel.Geometry;
            if (sparsity is not null && (sparsity.RowCount != n || sparsity.ColumnCount != d))
            {
                throw new ArgumentException($"The sparsity pattern is {sparsity.RowCount} x {sparsity.ColumnCount}; the centres are {n} x {d}.", nameof(sparsity));
            }

            this.form = Resolve(form, m, n, d, c, sparsity);
            batched = this.form == AgopForm.Direct && c > 1 && (long)c * d * 5 <= Math.Min(n, m);
            h = be.Allocate<T>(d, d);
            be.Scale(T.Zero, h);
            if (this.form == AgopForm.Gram)
            {
                p = Zeroed(n, n);
            }
            else if (this.form == AgopForm.SparseDirect)
            {
                sparse = sparsity ?? DownloadPattern();
                cpu = UsesSparseKernel(be, c, d) ? (CpuBackend)be : null;
                if (cpu is not null)
                {
                    packed = PackNegatedCoefficients();
                }
                else
                {
                    bt = UploadScaledCoefficients();
                }
            }
            else if (batched)
            {
                kron = be.Allocate<T>(n, c * d);
                be.RowKronecker(alpha, xc, kron);
            }

            if (centre)
            {
                sumXs = Zeroed(d, c);
                sumW = Zeroed(n, 1);
                if (symmetricWeights && (packed is not null || sparse is null))
                {
                    alphaOnes = be.Allocate<T>(n, c + 1);
                    using (var left = alphaOnes.ColumnRange(0, c))
                    {
                        be.Copy(alpha, left);
                    }

                    // The ones go up as one contiguous vector and are copied into the column on the device (an upload into a
                    // strided view is one transfer per row on a GPU).
                    using var right = alphaOnes.ColumnRange(c, 1);
                    using var ones = be.Upload<T>(Enumerable.Repeat(T.One, n).ToArray(), n, 1);
                    be.Copy(ones, right);
                }
            }
        }

        /// <summary>
        /// Adds the sample rows <paramref name="xs"/> with their derivative weights (rows × n, ∂k/∂u, or rows × 2n,
        /// [∂κ/∂u | ∂κ/∂a], for a norm-dependent kernel; only read).
        /// </summary>
        public void Add(DeviceBuffer<T> xs, DeviceBuffer<T> weights, CancellationToken cancellationToken)
        {
            if (alphaOnes is not null && (any || xs.Rows != n))
            {
                throw new InvalidOperationException("An AGOP that folds the centring sums into W'[α | 1] takes all n sample rows in one Add.");
            }

            any = true;
            int rows = xs.Rows;
            if (packed is not null)
            {
                SparseKernelTerms(xs, weights, null, cancellationToken);
                return;
            }

            if (sparse is not null)
            {
                SparseDirectTerms(xs, weights, cancellationToken);
                return;
            }

            // W' = f·W (f = WeightFactor, folded into the products below instead of a pass over W) and S = (the weights of x_j)·α:
            // radial W' = 2W, S = W'α (∇ₓk = 2φ'M(x − z)); norm-dependent W' = −∂κ/∂u, S = 2(∂κ/∂a)α
            // (∇ₓk = ∂κ/∂u·Mz + 2∂κ/∂a·Mx); dot-product W' = W and no S (the sign is taken below).
            using var du = geometry == KernelGeometry.InnerProductAndNorms ? weights.ColumnRange(0, n) : null;
            var w = du ?? weights;
            using var s = geometry == KernelGeometry.DotProduct ? null : be.Allocate<T>(rows, c);

            // One output and a radial kernel: S (and W'1 where the centring folds it) come out of the gradients' GEMM below.
            bool fold = geometry == KernelGeometry.Radial && form == AgopForm.Direct && !batched && c == 1 && (FoldCoefficients ?? true);
            if (!fold)
            {
                if (alphaOnes is not null)
                {
                    SampleCoefficientsAndRowSums(w, 0, rows, s!);
                }
                else if (geometry == KernelGeometry.Radial)
                {
                    be.Gemm(Transpose.None, Transpose.None, WeightFactor, w, alpha, T.Zero, s!);
                }
                else if (s is not null)
                {
                    using var wa = weights.ColumnRange(n, n);
                    be.Gemm(Transpose.None, Transpose.None, T.CreateTruncating(2), wa, alpha, T.Zero, s);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (form == AgopForm.Gram)
            {
                GramTerms(xs, w, s);
            }
            else if (batched)
            {
                BatchedDirectTerms(xs, w, s);
            }
            else if (fold)
            {
                DirectTermsWithCoefficients(xs, w, s!);
            }
            else
            {
                DirectTerms(xs, w, s, cancellationToken);
            }

            if (sumW is not null)
            {
                using var ones = alphaOnes is null ? be.Upload<T>(Enumerable.Repeat(T.One, rows).ToArray(), rows, 1) : null;
                AddCentringSums(w, xs, ones, s, transposedS: false);
            }
        }

        /// <summary>
        /// Adds all n centres as the sample (<paramref name="xs"/> = X_c) with W = <paramref name="scale"/>·K read off the strict upper
        /// triangle of <paramref name="kernelMatrix"/> (<see cref="ComputeFromKernel{T}"/>): the sparse kernel with S read off its gradients.
        /// </summary>
        public void AddFromKernel(DeviceBuffer<T> xs, DeviceBuffer<T> kernelMatrix, T scale, CancellationToken cancellationToken)
        {
            if (any || xs.Rows != n || packed is null)
            {
                throw new InvalidOperationException("An AGOP that reads its weights off the kernel matrix takes all n centres as its sample in one call, through the sparse kernel.");
            }

            any = true;
            SparseKernelTerms(xs, kernelMatrix, scale, cancellationToken);
        }

        /// <summary>Completes the sums, scales by 1/m, centres, applies M on both sides and returns G (row-major, double).</summary>
        public double[] Finish(Metric metric, DeviceBuffer<T>? metricBuffer, CancellationToken cancellationToken)
        {
            if (!any)
            {
                throw new InvalidOperationException("No sample rows were added to the AGOP.");
            }

            if (p is not null)
            {
                // + X_cᵀ [(W'ᵀW') ∘ (ααᵀ)] X_c
                using (var aat = be.Allocate<T>(n, n))
                {
                    be.Syrk(Transpose.None, T.One, alpha, T.Zero, aat);
                    be.Hadamard(p, aat, p);
                }

                using var px = be.Allocate<T>(n, d);
                be.Gemm(Transpose.None, Transpose.None, T.One, p, xc, T.Zero, px);
                be.Gemm(Transpose.Transpose, Transpose.None, T.One, xc, px, T.One, h);
            }

            be.Scale(T.One / T.CreateTruncating(m), h);
            if (sumW is not null)
            {
                SubtractMeanGradient();
            }

            cancellationToken.ThrowIfCancellationRequested();
            ApplyMetric(be, metric, metricBuffer, h);
            var result = new T[d * d];
            be.Download(h, result);
            var g = new double[d * d];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    // Symmetrize away the rounding of the two one-sided products.
                    g[(i * d) + j] = 0.5 * (double.CreateTruncating(result[(i * d) + j]) + double.CreateTruncating(result[(j * d) + i]));
                }
            }

            return g;
        }

        public void Dispose()
        {
            h.Dispose();
            p?.Dispose();
            kron?.Dispose();
            bt?.Dispose();
            identity?.Dispose();
            sumXs?.Dispose();
            sumW?.Dispose();
            alphaOnes?.Dispose();
            if (packed is not null)
            {
                // Once: a second return would hand the same array to two renters.
                System.Buffers.ArrayPool<T>.Shared.Return(packed);
                packed = null;
            }
        }

        private DeviceBuffer<T> Zeroed(int rows, int cols)
        {
            var b = be.Allocate<T>(rows, cols);
            be.Scale(T.Zero, b);
            return b;
        }

        /// <summary>X_sᵀdiag(q)X_s − X_sᵀCX_c − X_cᵀCᵀX_s into H, and W'ᵀW' into P, for one block (<paramref name="w"/> = W'/f).</summary>
        private void GramTerms(DeviceBuffer<T> xs, DeviceBuffer<T> w, DeviceBuffer<T>? s)
        {
            int rows = xs.Rows;
            if (s is not null)
            {
                // X_sᵀ diag(q) X_s
                using (var q = be.Allocate<T>(rows, 1))
                using (var xq = be.Allocate<T>(rows, d))
                {
                    be.RowDot(s, s, q);
                    be.Copy(xs, xq);
                    be.ScaleRows(xq, q);
                    be.Gemm(Transpose.Transpose, Transpose.None, T.One, xs, xq, T.One, h);
                }

                // − X_sᵀ C X_c − X_cᵀ Cᵀ X_s with C = W' ∘ (S αᵀ)
                using var cx = be.Allocate<T>(rows, d);
                using (var cm = be.Allocate<T>(rows, n))
                {
                    be.Gemm(Transpose.None, Transpose.Transpose, WeightFactor, s, alpha, T.Zero, cm);
                    be.Hadamard(w, cm, cm);
                    be.Gemm(Transpose.None, Transpose.None, T.One, cm, xc, T.Zero, cx);
                }

                be.Gemm(Transpose.Transpose, Transpose.None, -T.One, xs, cx, T.One, h);
                be.Gemm(Transpose.Transpose, Transpose.None, -T.One, cx, xs, T.One, h);
            }

            be.Syrk(Transpose.Transpose, WeightFactor * WeightFactor, w, T.One, p!);
        }

        /// <summary>
        /// The direct form for one output of a radial kernel, S = W'α read off the gradients' GEMM: its right operand (left,
        /// transposed) is [α ∘ X_c | α], and [α ∘ X_c | α | 1] where the centring folds W'1 = W'ᵀ1 (a symmetric W'), so the one
        /// pass over W that forms t = W'(α ∘ X_c) also gives W'α and W'1, in columns the register tiles' padding usually
        /// computes anyway (d = 100 with the AVX-512 tiles: 101 or 102 of 104 rows in single precision, of 120 columns in double).
        /// The gradients are then S ∘ X_s − t. <paramref name="s"/> (rows × 1) receives S for the centring sums. Beside the
        /// per-output form's buffers it holds the extra columns of the operand and the product and S ∘ X_s (rows × d).
        /// </summary>
        private void DirectTermsWithCoefficients(DeviceBuffer<T> xs, DeviceBuffer<T> w, DeviceBuffer<T> s)
        {
            int rows = xs.Rows;
            bool ones = alphaOnes is not null;
            int width = d + (ones ? 2 : 1);
            bool transposed = GradientsTransposed(be, width);
            using var right = be.Allocate<T>(n, width);
            using (var scaled = right.ColumnRange(0, d))
            {
                be.Copy(xc, scaled);
                be.ScaleRows(scaled, alpha);
            }

            using (var alphaColumn = right.ColumnRange(d, 1))
            {
                be.Copy(alpha, alphaColumn);
            }

            if (ones)
            {
                using var onesColumn = right.ColumnRange(d + 1, 1);
                using var source = alphaOnes!.ColumnRange(c, 1);
                be.Copy(source, onesColumn);
            }

            // G = −f·W·right (rows × width), or its transpose: −t in the first d columns, −S and −W'1 after them.
            T factor = -WeightFactor;
            using var g = transposed ? be.Allocate<T>(width, rows) : be.Allocate<T>(rows, width);
            if (transposed)
            {
                be.Gemm(Transpose.Transpose, Transpose.Transpose, factor, right, w, T.Zero, g);
            }
            else
            {
                be.Gemm(Transpose.None, Transpose.None, factor, w, right, T.Zero, g);
            }

            // A transposed G's extra rows are 1 × rows, contiguous: copied into a rows × 1 buffer (a reshaping copy).
            using (var sPart = transposed ? g.RowRange(d, 1) : g.ColumnRange(d, 1))
            {
                be.Copy(sPart, s);
                be.Scale(-T.One, s);
            }

            if (ones && transposed)
            {
                using var sumsPart = g.RowRange(d + 1, 1);
                using var sums = be.Allocate<T>(rows, 1);
                be.Copy(sumsPart, sums);
                be.Axpy(-T.One, sums, sumW!);
            }
            else if (ones)
            {
                using var sumsPart = g.ColumnRange(d + 1, 1);
                be.Axpy(-T.One, sumsPart, sumW!);
            }

            // Gradients (up to M) = S ∘ X_s − t, then H += their outer products.
            using var gradients = transposed ? g.RowRange(0, d) : g.ColumnRange(0, d);
            using var sx = transposed ? be.Allocate<T>(d, rows) : be.Allocate<T>(rows, d);
            if (transposed)
            {
                be.Gemm(Transpose.None, Transpose.Transpose, T.One, Identity, xs, T.Zero, sx);
                be.ScaleColumns(sx, s);
            }
            else
            {
                be.Copy(xs, sx);
                be.ScaleRows(sx, s);
            }

            be.Axpy(T.One, sx, gradients);
            be.Syrk(transposed ? Transpose.None : Transpose.Transpose, T.One, gradients, T.One, h);
        }

        /// <summary>
        /// Per output k: g_k = diag(S_k)X_s − W'(α_k ∘ X_c) (or W'(α_k ∘ X_c) for dot-product kernels), H += g_kᵀg_k. The
        /// columns α_k and S_k are column views passed straight to ScaleRows (no copy, no host round trip), and the device
        /// holds the same buffers whatever the number of outputs (one output of a radial kernel takes
        /// <see cref="DirectTermsWithCoefficients"/> instead, unless <see cref="FoldCoefficients"/> is false): α_k ∘ X_c (n × d) and g_k (rows × d). On the managed backend,
        /// where d columns would leave more of the GEMM's last register tile idle than d rows (<see cref="GradientsTransposed"/>),
        /// g_kᵀ = X_sᵀdiag(S_k) − (α_k ∘ X_c)ᵀW'ᵀ is formed instead (d × rows) and H += g_kᵀ(g_kᵀ)ᵀ.
        /// </summary>
        private void DirectTerms(DeviceBuffer<T> xs, DeviceBuffer<T> w, DeviceBuffer<T>? s, CancellationToken cancellationToken)
        {
            int rows = xs.Rows;
            bool transposed = GradientsTransposed(be, d);
            using var scaled = be.Allocate<T>(n, d);
            using var gradients = transposed ? be.Allocate<T>(d, rows) : be.Allocate<T>(rows, d);
            using var xsT = transposed && s is not null ? be.Allocate<T>(d, rows) : null;
            if (xsT is not null)
            {
                // X_sᵀ through a GEMM with the identity (2d²·rows flops, against the 2n·d·rows of each output's product).
                be.Gemm(Transpose.None, Transpose.Transpose, T.One, Identity, xs, T.Zero, xsT);
            }

            T factor = s is null ? WeightFactor : -WeightFactor;
            for (int k = 0; k < c; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                be.Copy(xc, scaled);
                using (var alphaK = alpha.ColumnRange(k, 1))
                {
                    be.ScaleRows(scaled, alphaK);
                }

                // t_k = W'(α_k ∘ X_c); gradient (up to M) = diag(S_k) X_s − t_k, or t_k alone for dot-product kernels.
                T beta = T.Zero;
                if (s is not null)
                {
                    be.Copy(xsT ?? xs, gradients);
                    using (var sK = s.ColumnRange(k, 1))
                    {
                        if (transposed)
                        {
                            be.ScaleColumns(gradients, sK);
                        }
                        else
                        {
                            be.ScaleRows(gradients, sK);
                        }
                    }

                    beta = T.One;
                }

                if (transposed)
                {
                    be.Gemm(Transpose.Transpose, Transpose.Transpose, factor, scaled, w, beta, gradients);
                    be.Syrk(Transpose.None, T.One, gradients, T.One, h);
                }
                else
                {
                    be.Gemm(Transpose.None, Transpose.None, factor, w, scaled, beta, gradients);
                    be.Syrk(Transpose.Transpose, T.One, gradients, T.One, h);
                }
            }
        }

        /// <summary>
        /// Whether the direct form builds its gradients transposed (d × rows): on the managed backend, when d rounded up to
        /// whole register tiles as the GEMM's rows (MR) is at most three quarters of d rounded up as its columns (NR). The
        /// transposed product packs W' as the GEMM's B operand, a full copy the untransposed one does not make, so it pays
        /// only where it saves enough flops: at d = 100 single precision computes 104 rows instead of 144 columns (taken),
        /// double 104 instead of 120 (not taken: in an alternating n = 10,000 round the AGOP was slower transposed).
        /// </summary>
        private static bool GradientsTransposed(IComputeBackend backend, int inputs)
        {
            int mr = FeatureLearning.Compute.Managed.PackedGemm<T>.MR, nr = FeatureLearning.Compute.Managed.PackedGemm<T>.NR;
            return (DirectTransposed ?? backend is ManagedBackend) && 4 * ((inputs + mr - 1) / mr * mr) <= 3 * ((inputs + nr - 1) / nr * nr);
        }

        /// <summary>
        /// The direct form for all outputs in one GEMM: with A⊗X the row-wise Kronecker product (row i = vec(α_i ⊗ x_i)),
        /// R = S⊗X_s − W'(α⊗X_c) holds every output's gradients side by side (rows × c·d), and H = Σ_k R_kᵀR_k, one SYRK
        /// of R read as (rows·c) × d, one gradient per row (rows·c·d² flops, against rows·(c·d)² for the whole Gram matrix
        /// RᵀR of which only the diagonal blocks count). One GEMM with c·d columns reads W' once instead of c times; the condition checked at
        /// construction (c·d ≤ min(n, m)/5) keeps R and α⊗X_c at a fifth of W' or less, so the outputs add little memory.
        /// </summary>
        private void BatchedDirectTerms(DeviceBuffer<T> xs, DeviceBuffer<T> w, DeviceBuffer<T>? s)
        {
            int rows = xs.Rows, cd = c * d;
            using var r = be.Allocate<T>(rows, cd);
            if (s is not null)
            {
                be.RowKronecker(s, xs, r);
            }

            be.Gemm(Transpose.None, Transpose.None, s is null ? WeightFactor : -WeightFactor, w, kron!, s is null ? T.Zero : T.One, r);
            // Row i of R is [g_i1 | … | g_ic], so R read as (rows·c) × d holds one gradient per row: H += one SYRK of it.
            using var stacked = r.Reshape(rows * c, d);
            be.Syrk(Transpose.Transpose, T.One, stacked, T.One, h);
        }

        /// <summary>The d × d identity on the device, uploaded on first use (the transposes X_sᵀ of the direct forms).</summary>
        private DeviceBuffer<T> Identity
        {
            get
            {
                if (identity is null)
                {
                    var eye = new T[d * d];
                    for (int l = 0; l < d; l++)
                    {
                        eye[(l * d) + l] = T.One;
                    }

                    identity = be.Upload<T>(eye, d, d);
                }

                return identity;
            }
        }

        /// <summary>The factor f with W' = f·∂k/∂u: 2 for radial kernels, −1 for norm-dependent ones, 1 for dot-product kernels.</summary>
        private T WeightFactor => geometry switch
        {
            KernelGeometry.Radial => T.CreateTruncating(2),
            KernelGeometry.InnerProductAndNorms => -T.One,
            _ => T.One,
        };

        /// <summary>The pattern of X_c from a download of it (an explicit <see cref="AgopForm.SparseDirect"/> without a known pattern).</summary>
        private SparseColumns DownloadPattern()
        {
            var host = new T[n * d];
            be.Download(xc, host);
            return SparseColumns.Build<T>(host, n, d);
        }

        /// <summary>
        /// Whether the sparse direct form takes <see cref="FeatureLearning.Compute.Managed.SparseGradientKernel{T}"/>: on a CPU backend where it
        /// runs, with at least half an output block of outputs (fewer would leave most of each vector idle), and with what each
        /// thread holds — the gradients of one register block of sample rows and one output block (d ×
        /// <see cref="FeatureLearning.Compute.Managed.SparseGradientKernel{T}.RowBlock"/>·<see cref="FeatureLearning.Compute.Managed.SparseGradientKernel{T}.OutputBlock"/>)
        /// and a private d × d sum — within the chunk bound, unless <see cref="SparseKernel"/> says otherwise.
        /// </summary>
        internal static bool UsesSparseKernel(IComputeBackend backend, int outputs, int inputs) =>
            backend is CpuBackend && FeatureLearning.Compute.Managed.SparseGradientKernel<T>.Supported
            && (SparseKernel ?? (2 * outputs >= FeatureLearning.Compute.Managed.SparseGradientKernel<T>.OutputBlock
                && (long)inputs * FeatureLearning.Compute.Managed.SparseGradientKernel<T>.RowBlock * Math.Min(outputs, FeatureLearning.Compute.Managed.SparseGradientKernel<T>.OutputBlock) <= ChunkElements
                && (long)inputs * inputs <= ChunkElements));

        /// <summary>
        /// −B packed for the kernel: row t holds −f·v_t·α[i_t, ·] for the t-th non-zero v_t (at row i_t), column by column. The
        /// packed array (1.9 MB for grokking, every round) and the host copy of α are rented from the shared pool, not allocated:
        /// <see cref="Dispose"/> returns the packed one. A rented array may be longer than the packing; the kernel reads only
        /// its length.
        /// </summary>
        private T[] PackNegatedCoefficients()
        {
            var a = System.Buffers.ArrayPool<T>.Shared.Rent(n * c);
            try
            {
                var alphaHost = a.AsSpan(0, n * c);
                be.Download(alpha, alphaHost);
                var scale = Scales(-WeightFactor);
                var result = System.Buffers.ArrayPool<T>.Shared.Rent(checked((int)FeatureLearning.Compute.Managed.SparseGradientKernel<T>.PackedLength(scale.Length, c)));
                FeatureLearning.Compute.Managed.SparseGradientKernel<T>.Pack(scale, sparse!.Rows, alphaHost, c, result);
                return result;
            }
            finally
            {
                System.Buffers.ArrayPool<T>.Shared.Return(a);
            }
        }

        /// <summary>α on the host and the scale factor·v_t of each non-zero v_t of X_c: B[t, k] = scale[t]·α[i_t, k].</summary>
        private (T[] Alpha, T[] Scale) CoefficientFactors(T factor)
        {
            var a = new T[n * c];
            be.Download(alpha, a);
            return (a, Scales(factor));
        }

        /// <summary>factor·v_t for every non-zero v_t of X_c.</summary>
        private T[] Scales(T factor)
        {
            var scale = new T[sparse!.NonZeros];
            for (int t = 0; t < scale.Length; t++)
            {
                scale[t] = factor * T.CreateTruncating(sparse.Values[t]);
            }

            return scale;
        }

        /// <summary>
        /// The centring sums of one chunk of sample rows (<paramref name="wb"/> their W, unscaled): Σ W'ᵀ1 = f·Σ Wᵀ1 and, unless <paramref name="s"/> is null, X_sᵀS
        /// (S given as rows × c, or as its transpose with <paramref name="transposedS"/>).
        /// </summary>
        private void AddCentringSums(DeviceBuffer<T> wb, DeviceBuffer<T> xb, DeviceBuffer<T>? ones, DeviceBuffer<T>? s, bool transposedS)
        {
            // Without ones, W'ᵀ1 was added with S (SampleCoefficientsAndRowSums).
            if (ones is not null)
            {
                using var onesB = ones.RowRange(0, wb.Rows);
                be.Gemm(Transpose.Transpose, Transpose.None, WeightFactor, wb, onesB, T.One, sumW!);
            }

            if (s is not null)
            {
                be.Gemm(Transpose.Transpose, transposedS ? Transpose.Transpose : Transpose.None, T.One, xb, s, T.One, sumXs!);
            }
        }

        /// <summary>
        /// The sparse direct form through <see cref="FeatureLearning.Compute.Managed.SparseGradientKernel{T}"/>, in chunks of sample rows: per
        /// chunk S = W'α (radial; 2(∂κ/∂a)α for a norm-dependent kernel, none for a dot-product one) as rows × c, then
        /// H += RRᵀ for the gradients R (d × rows·c), which the kernel builds and multiplies in cached blocks of twelve rows
        /// and one output block. A radial kernel
        /// whose centres have a one-hot group of columns (<see cref="SparseColumns.OneHotGroup"/>) takes S from the kernel
        /// instead (read off the gradients), and the centring's W'1, where it is folded with S, from the rows of W'.
        /// </summary>
        /// <param name="xs">The sample rows.</param>
        /// <param name="weights">Their W (rows × n), or with <paramref name="kernelScale"/> the kernel matrix K (n × n, the sample the centres).</param>
        /// <param name="kernelScale">Null, or the factor of K in W, read off K's strict upper triangle (S then read off the gradients).</param>
        /// <param name="cancellationToken">Checked between chunks.</param>
        private void SparseKernelTerms(DeviceBuffer<T> xs, DeviceBuffer<T> weights, T? kernelScale, CancellationToken cancellationToken)
        {
            int rows = xs.Rows;

            // The kernel never holds more than the gradients of a row block and an output block per worker (d × RowBlock·
            // OutputBlock, within the bound by UsesSparseKernel), so a chunk bounds only S and the ones (chunk × c ≤ the bound
            // / RowBlock): d / RowBlock times the rows of the gather path's chunks. Each chunk is one parallel region with its own private sums and its last
            // row blocks shared unevenly, so fewer of them are faster (grokking's 1,860 rows: one chunk instead of four).
            int chunk = (int)Math.Clamp(ChunkElements / ((long)c * FeatureLearning.Compute.Managed.SparseGradientKernel<T>.RowBlock), 1, Math.Max(1, rows));
            using var du = geometry == KernelGeometry.InnerProductAndNorms ? weights.ColumnRange(0, n) : null;
            var w = du ?? weights;
            using var sAll = geometry == KernelGeometry.DotProduct ? null : be.Allocate<T>(chunk * c, 1);
            using var ones = sumW is null || alphaOnes is not null ? null : be.Upload<T>(Enumerable.Repeat(T.One, chunk).ToArray(), chunk, 1);

            // A radial kernel's S = W'α sums over every centre once, as does the group of a one-hot feature of X_c: the kernel
            // reads S off the gradients over that group (and W'1 off W' where the centring folds it with S).
            bool derive = (DeriveCoefficients ?? true) && geometry == KernelGeometry.Radial && sparse!.OneHotGroup is not null && (sumW is null || alphaOnes is not null);
            if (kernelScale is not null && !derive)
            {
                throw new InvalidOperationException("The weights can be read off the kernel matrix only where S is read off the gradients (a one-hot group, a radial kernel).");
            }

            for (int r0 = 0; r0 < rows; r0 += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int len = Math.Min(chunk, rows - r0);
                using var xb = xs.RowRange(r0, len);
                using var s = sAll?.RowRange(0, len * c).Reshape(len, c);
                using var rowSums = derive && alphaOnes is not null ? sumW!.RowRange(r0, len) : null;

                // Read off K (derive holds: no S from W' and no ones, so nothing else reads the rows of W).
                using var wb = kernelScale is null ? w.RowRange(r0, len) : null;
                if (!derive && alphaOnes is not null)
                {
                    SampleCoefficientsAndRowSums(wb!, r0, len, s!);
                }
                else if (!derive && s is not null)
                {
                    SampleCoefficients(weights, wb!, r0, len, s, transposed: false);
                }

                if (kernelScale is { } scale)
                {
                    cpu!.AddSparseAgopOuterProductsFromKernel(weights, scale, r0, sparse!.Start, sparse.Rows, packed!, c, s, xb, h, sparse.OneHotGroup, rowSums, WeightFactor);
                }
                else
                {
                    cpu!.AddSparseAgopOuterProducts(wb!, sparse!.Start, sparse.Rows, packed!, c, s, xb, h, derive ? sparse.OneHotGroup : null, rowSums, WeightFactor);
                }

                if (sumW is not null && s is not null && ones is null && ReferenceEquals(xs, xc))
                {
                    // X_sᵀS from the centres' pattern (the sample is the centre set; W'1 was summed off the gradients or with S in
                    // SampleCoefficientsAndRowSums).
                    cpu!.AddSparseTransposedProduct(sparse!.Start, sparse.Rows, sparse.Values, r0, s, null, T.One, sumXs!);
                }
                else if (sumW is not null)
                {
                    AddCentringSums(wb ?? weights, xb, ones, s, transposedS: false);
                }
            }
        }

        /// <summary>
        /// S of the sample rows r0 … r0 + len − 1 (<paramref name="wb"/> their W, unscaled), rows × c or transposed: radial
        /// S = W'α = f·Wα, norm-dependent S = 2(∂κ/∂a)α.
        /// </summary>
        private void SampleCoefficients(DeviceBuffer<T> weights, DeviceBuffer<T> wb, int r0, int len, DeviceBuffer<T> s, bool transposed)
        {
            using var wa = geometry == KernelGeometry.Radial ? null : weights.Slice(r0, len, n, n);
            T scale = geometry == KernelGeometry.Radial ? WeightFactor : T.CreateTruncating(2);
            if (transposed)
            {
                be.Gemm(Transpose.Transpose, Transpose.Transpose, scale, alpha, wa ?? wb, T.Zero, s);
            }
            else
            {
                be.Gemm(Transpose.None, Transpose.None, scale, wa ?? wb, alpha, T.Zero, s);
            }
        }

        /// <summary>
        /// S = W'α of the sample rows r0 … r0 + len − 1 (<paramref name="wb"/> their W, unscaled) and, with W' symmetric, their
        /// entries of the centring sum W'ᵀ1 = W'1: one product f·W[α | 1] (len × (c + 1)) reads W once for both.
        /// </summary>
        private void SampleCoefficientsAndRowSums(DeviceBuffer<T> wb, int r0, int len, DeviceBuffer<T> s)
        {
            using var both = be.Allocate<T>(len, c + 1);
            be.Gemm(Transpose.None, Transpose.None, WeightFactor, wb, alphaOnes!, T.Zero, both);
            using (var left = both.ColumnRange(0, c))
            {
                be.Copy(left, s);
            }

            using var sums = both.ColumnRange(c, 1);
            using var target = sumW!.RowRange(r0, len);
            be.Axpy(T.One, sums, target);
        }

        /// <summary>Bᵀ (c × nnz): Bᵀ[k, t] = f·v_t·α[i_t, k], the coefficients of the centres of each column's non-zeros, scaled.</summary>
        private DeviceBuffer<T> UploadScaledCoefficients()
        {
            var (a, scale) = CoefficientFactors(WeightFactor);
            int nnz = scale.Length;
            var host = new T[c * nnz];
            for (int t = 0; t < nnz; t++)
            {
                int i = sparse!.Rows[t];
                for (int k = 0; k < c; k++)
                {
                    host[(k * nnz) + t] = scale[t] * a[(i * c) + k];
                }
            }

            return be.Upload<T>(host, c, nnz);
        }

        /// <summary>
        /// The sparse direct form for the sample rows <paramref name="xs"/>, in chunks of rows: per chunk of r rows, the
        /// gradients R (d × c·r, row l holding component l of g_jk = s_jk x_j − t_jk at column k·r + j) are built one input
        /// column at a time — the row l of R, seen as a c × r matrix, is Sᵀdiag(X_s[:, l]) − Bᵀ_l (W'[:, I_l])ᵀ with W'[:, I_l]
        /// the gathered derivative weights of the centres I_l where column l is non-zero — and H += RRᵀ is one SYRK. The
        /// derivative weights are read, not scaled: the factor f of W' sits in Bᵀ and in the GEMMs' α.
        /// </summary>
        private void SparseDirectTerms(DeviceBuffer<T> xs, DeviceBuffer<T> weights, CancellationToken cancellationToken)
        {
            int rows = xs.Rows, nnz = sparse!.NonZeros;
            int[] start = sparse.Start;
            int budget = ChunkElements;
            int widest = 0;
            for (int l = 0; l < d; l++)
            {
                widest = Math.Max(widest, start[l + 1] - start[l]);
            }

            // Rows per chunk: the gradients (d·c per row) and one column's gathered weights (widest per row) within the budget.
            long perRow = Math.Max((long)c * d, widest);
            int chunk = (int)Math.Clamp(budget / perRow, 1, Math.Max(1, rows));

            // Columns are gathered in groups of at most `capacity` non-zeros (one group when the whole pattern fits).
            int capacity = (int)Math.Min(nnz, Math.Max(widest, budget / chunk));
            using var du = geometry == KernelGeometry.InnerProductAndNorms ? weights.ColumnRange(0, n) : null;
            var w = du ?? weights;
            using var gradients = be.Allocate<T>(d * c * chunk, 1);
            using var gathered = be.Allocate<T>((int)Math.Max(1, (long)chunk * capacity), 1);
            using var st = geometry == KernelGeometry.DotProduct ? null : be.Allocate<T>(c * chunk, 1);
            using var xt = st is null ? null : be.Allocate<T>(d * chunk, 1);
            using var ones = sumW is null ? null : be.Upload<T>(Enumerable.Repeat(T.One, chunk).ToArray(), chunk, 1);
            for (int r0 = 0; r0 < rows; r0 += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int len = Math.Min(chunk, rows - r0);
                using var wb = w.RowRange(r0, len);
                using var xb = xs.RowRange(r0, len);
                using var r = gradients.RowRange(0, d * c * len).Reshape(d, c * len);

                // Sᵀ = (W'α)ᵀ (c × len) and X_sᵀ (d × len): radial S = W'α, norm-dependent S = 2(∂κ/∂a)α, dot-product none.
                using var sT = st?.RowRange(0, c * len).Reshape(c, len);
                using var xT = xt?.RowRange(0, d * len).Reshape(d, len);
                if (sT is not null)
                {
                    SampleCoefficients(weights, wb, r0, len, sT, transposed: true);
                    be.Gemm(Transpose.None, Transpose.Transpose, T.One, Identity, xb, T.Zero, xT!);
                }

                for (int g0 = 0; g0 < d;)
                {
                    int g1 = g0 + 1;
                    while (g1 < d && start[g1 + 1] - start[g0] <= capacity)
                    {
                        g1++;
                    }

                    int width = start[g1] - start[g0];
                    using var wg = gathered.RowRange(0, len * width).Reshape(len, width);
                    be.GatherColumns(wb, sparse.Rows.AsSpan(start[g0], width), wg);
                    for (int l = g0; l < g1; l++)
                    {
                        using var slab = r.RowRange(l, 1).Reshape(c, len);
                        T beta = T.Zero;
                        if (sT is not null)
                        {
                            be.Copy(sT, slab);
                            using var xl = xT!.RowRange(l, 1);
                            be.ScaleColumns(slab, xl);
                            beta = T.One;
                        }

                        int count = start[l + 1] - start[l];
                        if (count > 0)
                        {
                            using var bl = bt!.ColumnRange(start[l], count);
                            using var wl = wg.ColumnRange(start[l] - start[g0], count);
                            be.Gemm(Transpose.None, Transpose.Transpose, -T.One, bl, wl, beta, slab);
                        }
                        else if (sT is null)
                        {
                            be.Scale(T.Zero, slab);
                        }
                    }

                    g0 = g1;
                }

                be.Syrk(Transpose.None, T.One, r, T.One, h);
                if (sumW is not null)
                {
                    AddCentringSums(wb, xb, ones!, sT, transposedS: true);
                }
            }
        }

        /// <summary>H −= ḠḠᵀ with Ḡ = (1/m)(X_sᵀS − X_cᵀ diag(W'ᵀ1) α).</summary>
        private void SubtractMeanGradient()
        {
            T invM = T.One / T.CreateTruncating(m);
            using var mean = be.Allocate<T>(d, c);
            if (cpu is not null && sparse is not null)
            {
                // X_cᵀ(α ∘ W'1) from X_c's pattern: nnz·c multiply-adds instead of a d × n × c GEMM.
                be.Scale(T.Zero, mean);
                cpu.AddSparseTransposedProduct(sparse.Start, sparse.Rows, sparse.Values, 0, alpha, sumW, -invM, mean);
            }
            else
            {
                using var weighted = be.Allocate<T>(n, c);
                be.Copy(alpha, weighted);
                be.ScaleRows(weighted, sumW!);
                be.Gemm(Transpose.Transpose, Transpose.None, -invM, xc, weighted, T.Zero, mean);
            }

            if (geometry != KernelGeometry.DotProduct)
            {
                be.Axpy(invM, sumXs!, mean);
            }

            be.Gemm(Transpose.None, Transpose.Transpose, -T.One, mean, mean, T.One, h);
        }
    }

    /// <summary>H ← M H M.</summary>
    private static void ApplyMetric<T>(IComputeBackend backend, Metric metric, DeviceBuffer<T>? metricBuffer, DeviceBuffer<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (metric.Kind)
        {
            case MetricKind.Identity:
                return;
            case MetricKind.Diagonal:
                backend.ScaleColumns(h, metricBuffer!);
                backend.ScaleRows(h, metricBuffer!);
                return;
            default:
                int d = h.Rows;
                using (var mh = backend.Allocate<T>(d, d))
                {
                    backend.Gemm(Transpose.None, Transpose.None, T.One, metricBuffer!, h, T.Zero, mh);
                    backend.Gemm(Transpose.None, Transpose.None, T.One, mh, metricBuffer!, T.Zero, h);
                }

                return;
        }
    }
}
