using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using FeatureLearning.Compute.Managed;
using FeatureLearning.Kernels;
using SimdVector = System.Numerics.Vector;

namespace FeatureLearning.Compute;

/// <summary>
/// The base of the CPU backends, and the extension point for plugging in another CPU BLAS/LAPACK: buffers in pinned
/// managed memory (pooled), the ownership and shape checks, the element-wise primitives, the fused kernel matrix (its GEMM
/// through <see cref="GemmCore{T}"/>, the distance epilogue and the kernel profile in SIMD C#), and the jitter retry around
/// <see cref="CholeskyFactorCore{T}"/> are written here once; a derived backend supplies the BLAS/LAPACK cores.
/// <see cref="ManagedBackend"/> does it in C#, the native backend (package FeatureLearning.Backends.Native) through CBLAS
/// and LAPACK.
/// </summary>
/// <remarks>
/// <para><b>Deriving a backend.</b> Override the four cores, <see cref="GemmCore{T}"/>, <see cref="SyrkLowerCore{T}"/>,
/// <see cref="CholeskyFactorCore{T}"/> and <see cref="CholeskySolveCore{T}"/>, and <see cref="Name"/> and
/// <see cref="Describe"/>; call the constructor with the thread count and the pool budget. Optionally override
/// <see cref="KernelGemmPerRowBlock"/> (return false when the library threads its GEMM itself),
/// <see cref="SymmetricEigen{T}"/> (the default runs MathNet.Numerics on the host) and <see cref="Dispose(bool)"/> (release
/// native resources, then call the base). Everything else, the public operations included, is not virtual: the checks,
/// the pooling and the kernel matrix stay the same for every CPU backend, and the backend conformance suite of the tests
/// applies unchanged. Buffers of one backend are rejected by another.</para>
/// <para><b>Storage.</b> The cores work on raw row-major storage: pointers into pinned buffers of this backend, valid for the
/// duration of the call only (never keep them), with leading dimensions given as row strides in elements. The GEMM and SYRK
/// cores may be called with sizes of 0; every core may be called with a leading dimension larger than the column count: a
/// strided view (<see cref="DeviceBuffer{T}.Slice"/>) arrives as a pointer to its element (0, 0) and its parent's row
/// stride, and only its block may be written. The element-wise operations walk a strided view row by row; the kernel matrix
/// stages one through a pooled contiguous buffer (<see cref="KernelMatrixOperands{T, TBuffer}"/>).</para>
/// <para><b>Threading contract.</b> The public operations may run concurrently on several threads (the rule of
/// <see cref="IComputeBackend"/>: no buffer written by one running operation is touched by another), so the cores must be
/// reentrant: no mutable state shared between calls unless it is locked. <see cref="GemmCore{T}"/> honours its
/// <c>threads</c> argument: when <see cref="KernelGemmPerRowBlock"/> is true the kernel matrix calls it from the workers of
/// a parallel loop, one tile (a row block of 128 rows times a column block) at a time, with <c>threads</c> = 1, and it must
/// then stay on the calling thread. The other
/// cores run on the calling thread and may use up to <see cref="Threads"/> threads. <see cref="Dispose()"/> must not race
/// with running operations.</para>
/// </remarks>
public abstract unsafe partial class CpuBackend : IComputeBackend
{
    private const int KernelRowBlock = 128;

    private readonly PinnedArrayPool? pool;
    private volatile bool disposed;

    /// <summary>Initializes the shared CPU state.</summary>
    /// <param name="maxDegreeOfParallelism">Worker threads; 0 or less uses <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="bufferPoolBytes">
    /// How many bytes of disposed buffers to keep for reuse by later allocations of the same size: -1 (the default)
    /// keeps up to an eighth of the memory available to the garbage collector, 0 turns pooling off. Iterative
    /// algorithms allocate the same large buffers every round (an RFM round: two n × n matrices); reusing them avoids
    /// page faults and full garbage collections. <see cref="Dispose()"/> releases the pool.
    /// </param>
    protected CpuBackend(int maxDegreeOfParallelism, long bufferPoolBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferPoolBytes, -1);
        Threads = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
        long budget = bufferPoolBytes >= 0 ? bufferPoolBytes : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8;
        pool = budget > 0 ? new PinnedArrayPool(budget) : null;
    }

    /// <summary>
    /// When set (by the test suite), new buffers are filled with NaN, so any operation that reads memory it has not
    /// written (the contract of <see cref="Allocate{T}"/> is uninitialized memory) shows up as NaN in a result.
    /// </summary>
    internal static bool PoisonAllocations { get; set; }

    /// <summary>The number of worker threads used by the parallel operations.</summary>
    public int Threads { get; }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <summary>The buffer pool's budget as text, for <see cref="Describe"/>.</summary>
    protected string PoolDescription => pool is null ? "off" : $"{pool.BudgetBytes / (1 << 20)} MiB";

    /// <inheritdoc />
    public abstract string Describe();

    /// <inheritdoc />
    public override string ToString() => Describe();

    /// <summary>
    /// Releases the buffer pool (and, in derived classes, native resources). Afterwards every operation, allocation
    /// included, throws <see cref="ObjectDisposedException"/>; buffers disposed later are freed, not pooled. Calling it
    /// again does nothing. It must not race with operations still running on other threads.
    /// </summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the buffer pool (and, in derived classes, native resources).</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing) => pool?.Close();

    /// <summary>C ← α·op(A)·op(B) + β·C on row-major storage (β = 0: C is not read).</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="transA">op(A) = Aᵀ.</param>
    /// <param name="transB">op(B) = Bᵀ.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="alpha">α.</param>
    /// <param name="a">A.</param>
    /// <param name="lda">Row stride of A.</param>
    /// <param name="b">B.</param>
    /// <param name="ldb">Row stride of B.</param>
    /// <param name="beta">β.</param>
    /// <param name="c">C.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <param name="threads">Threads the call may use (1 inside an already parallel loop).</param>
    protected abstract void GemmCore<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The lower triangle of C ← α·op(A)·op(A)ᵀ + β·C (op(A) = Aᵀ when <paramref name="trans"/>); the strictly upper triangle is not written.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="trans">op(A) = Aᵀ.</param>
    /// <param name="n">Order of C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="alpha">α.</param>
    /// <param name="a">A.</param>
    /// <param name="lda">Row stride of A.</param>
    /// <param name="beta">β.</param>
    /// <param name="c">C.</param>
    /// <param name="ldc">Row stride of C.</param>
    protected abstract void SyrkLowerCore<T>(bool trans, int n, int k, T alpha, T* a, int lda, T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Factors A = LLᵀ in place writing only the lower triangle (the strict upper triangle must come back as it was: the
    /// jitter retry restores the lower triangle from it, and the RFM's AGOP reads the Gaussian's weights there); returns -1
    /// or the index of the first non-positive pivot.
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="a">A, row-major.</param>
    /// <param name="n">Order.</param>
    /// <param name="lda">Row stride.</param>
    /// <param name="cancellationToken">Checked where the core can.</param>
    /// <returns>-1 on success, else the failed pivot.</returns>
    protected abstract int CholeskyFactorCore<T>(T* a, int n, int lda, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Solves (LLᵀ)X = B in place given the lower factor L.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="l">L, row-major (lower triangle).</param>
    /// <param name="n">Order.</param>
    /// <param name="ldl">Row stride of L.</param>
    /// <param name="b">B, n × c row-major.</param>
    /// <param name="c">Right-hand sides.</param>
    /// <param name="ldb">Row stride of B.</param>
    protected abstract void CholeskySolveCore<T>(T* l, int n, int ldl, T* b, int c, int ldb)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Solves LX = B or LᵀX = B in place given the lower factor L (one of the two passes of <see cref="CholeskySolveCore{T}"/>).</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="l">L, row-major (lower triangle; the upper triangle is not read).</param>
    /// <param name="n">Order.</param>
    /// <param name="ldl">Row stride of L.</param>
    /// <param name="b">B, n × c row-major.</param>
    /// <param name="c">Right-hand sides.</param>
    /// <param name="ldb">Row stride of B.</param>
    /// <param name="transpose">Solve with Lᵀ instead of L.</param>
    /// <remarks>The default is the managed blocked solve; a backend over a native library overrides it (TRSM).</remarks>
    protected virtual void TriangularSolveCore<T>(T* l, int n, int ldl, T* b, int c, int ldb, bool transpose)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Managed.BlockedCholesky<T>.SolveTriangular(l, n, ldl, b, c, ldb, Threads, transpose);

    /// <summary>
    /// Whether the kernel matrix runs one single-threaded GEMM per tile inside a parallel loop, each tile's epilogue right
    /// after its GEMM while the tile is in cache, and K(X, X) with a symmetric metric only on and below the diagonal blocks,
    /// mirrored (the managed backend); or one multi-threaded GEMM for the whole matrix followed by a parallel epilogue
    /// (libraries with their own threading).
    /// </summary>
    protected virtual bool KernelGemmPerRowBlock => true;

    /// <inheritdoc />
    public DeviceBuffer<T> Allocate<T>(int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        PrecisionExtensions.Of<T>();
        var buffer = new ManagedBuffer<T>(this, rows, cols, pool);
        if (PoisonAllocations)
        {
            buffer.Span.Fill(T.NaN);
        }

        return buffer;
    }

    /// <inheritdoc />
    public DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T> => Operands.AllocateAndUpload(this, data, rows, cols);

    /// <inheritdoc />
    public void Upload<T>(ReadOnlySpan<T> data, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Operands.Transfer(Own(destination, nameof(destination)), Operands.Unlocked(data), upload: true, CopyRun);

    /// <inheritdoc />
    public void Download<T>(DeviceBuffer<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Operands.Transfer(Own(source, nameof(source)), destination, upload: false, CopyRun);

    /// <inheritdoc />
    public void Gemm<T>(Transpose transA, Transpose transB, T alpha, DeviceBuffer<T> a, DeviceBuffer<T> b, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mb, mc) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(c, nameof(c)));
        Shapes.CheckGemm(transA, transB, a, b, c, out int m, out int n, out int k);
        GemmCore(transA == Transpose.Transpose, transB == Transpose.Transpose, m, n, k, alpha, ma.Pointer, a.LeadingDimension, mb.Pointer, b.LeadingDimension, beta, mc.Pointer, c.LeadingDimension, Threads);
    }

    /// <inheritdoc />
    public void Syrk<T>(Transpose trans, T alpha, DeviceBuffer<T> a, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mc) = (Own(a, nameof(a)), Own(c, nameof(c)));
        Shapes.CheckSyrk(trans, a, c, out int n, out int k);
        bool t = trans == Transpose.Transpose;

        SyrkLowerCore(t, n, k, alpha, ma.Pointer, a.LeadingDimension, beta, mc.Pointer, c.LeadingDimension);
        Mirror(mc.Pointer, n, c.LeadingDimension, lowerToUpper: true);
    }

    /// <inheritdoc />
    public CholeskyReport CholeskyFactor<T>(DeviceBuffer<T> a, CholeskyOptions? options = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ma = Own(a, nameof(a));
        options = Shapes.CheckCholeskyFactor(a, options);
        int n = a.Rows;
        if (n == 0)
        {
            return CholeskyRetry.Empty;
        }

        T* p = ma.Pointer;
        int lda = a.LeadingDimension;
        var diagonal = new T[n];
        for (int i = 0; i < n; i++)
        {
            diagonal[i] = p[((long)i * lda) + i];
        }

        return CholeskyRetry.Run<T>(
            diagonal,
            options,
            () => CholeskyFactorCore(p, n, lda, cancellationToken),
            jitter =>
            {
                Mirror(p, n, lda, lowerToUpper: false);
                T add = T.CreateTruncating(jitter);
                for (int i = 0; i < n; i++)
                {
                    p[((long)i * lda) + i] = diagonal[i] + add;
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// Solves LX = B (or LᵀX = B with <paramref name="transpose"/>) in place, with L the lower triangle of a factor from
    /// <see cref="CholeskyFactor{T}"/>: half of <see cref="CholeskySolve{T}"/>, for callers that apply L⁻¹ alone (the
    /// Nyström preconditioner).
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="factor">The factor (its upper triangle is not read).</param>
    /// <param name="b">The right-hand sides, overwritten by the solution.</param>
    /// <param name="transpose">Solve with Lᵀ.</param>
    internal void TriangularSolve<T>(DeviceBuffer<T> factor, DeviceBuffer<T> b, bool transpose)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ml, mb) = (Own(factor, nameof(factor)), Own(b, nameof(b)));
        Shapes.CheckCholeskySolve(factor, b);
        if (b.Length == 0)
        {
            return;
        }

        TriangularSolveCore(ml.Pointer, factor.Rows, factor.LeadingDimension, mb.Pointer, b.Cols, b.LeadingDimension, transpose);
    }

    /// <inheritdoc />
    public void CholeskySolve<T>(DeviceBuffer<T> factor, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ml, mb) = (Own(factor, nameof(factor)), Own(b, nameof(b)));
        Shapes.CheckCholeskySolve(factor, b);
        if (b.Length == 0)
        {
            return;
        }

        CholeskySolveCore(ml.Pointer, factor.Rows, factor.LeadingDimension, mb.Pointer, b.Cols, b.LeadingDimension);
    }

    /// <inheritdoc />
    /// <remarks>The systems are solved in parallel on the worker threads, each gathered into a per-thread scratch block and
    /// factored by an unblocked Cholesky in place (the systems are small: a call per system to the LAPACK core would cost more
    /// than the work).</remarks>
    public void BatchedRidgeSolve<T>(DeviceBuffer<T> p, T ridge, SmallSystemBatch systems, DeviceBuffer<T> rightHandSides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mp, mb) = (Own(p, nameof(p)), Own(rightHandSides, nameof(rightHandSides)));
        Shapes.CheckBatchedRidgeSolve(p, systems, rightHandSides);
        if (systems.Count == 0)
        {
            return;
        }

        SmallSystemBatch.SolveAll(mp.Pointer, p.LeadingDimension, ridge, systems, mb.Pointer, Threads);
    }

    /// <inheritdoc />
    /// <remarks>The default uses MathNet.Numerics' managed solver, meant for metric matrices (d × d, d up to a few thousand).</remarks>
    public virtual void SymmetricEigen<T>(DeviceBuffer<T> a, DeviceBuffer<T> eigenvalues, DeviceBuffer<T> eigenvectors)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        (_, _, _) = (Own(a, nameof(a)), Own(eigenvalues, nameof(eigenvalues)), Own(eigenvectors, nameof(eigenvectors)));
        Shapes.CheckEigen(a, eigenvalues, eigenvectors);
        HostEigen.Run(this, a, eigenvalues, eigenvectors);
    }

    /// <inheritdoc />
    public void KernelMatrix<T, TKernel>(in TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> result, DeviceBuffer<T>? derivativeWeights = null)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction =>
        KernelMatrixOperands<T, ManagedBuffer<T>>.Run(this, Own<T>, kernel, x, z, metric, result, derivativeWeights, KernelMatrixStaged<T, TKernel>);

    /// <summary>The kernel matrix on contiguous operands (strided views staged by <see cref="KernelMatrixOperands{T, TBuffer}"/>).</summary>
    private void KernelMatrixStaged<T, TKernel>(TKernel kernel, KernelMatrixOperands<T, ManagedBuffer<T>> operands)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction =>
        KernelMatrixContiguous(kernel, operands.NormKernel, operands.X, operands.Z, operands.Metric, operands.Result, operands.Weights, null);

    /// <summary>
    /// F = K(X, Z)·α (n × c) without storing K: each worker evaluates its tiles of K (128 rows × a column block) into a
    /// private tile that stays in L2 and multiplies it by the matching rows of α into its rows of F at once, where
    /// <see cref="IComputeBackend.KernelMatrix{T, TKernel}"/> followed by a GEMM writes the n × m matrix K to memory and reads
    /// it back (the prediction of a kernel machine, the validation errors of each RFM round). On a backend whose GEMM threads
    /// itself (<see cref="KernelGemmPerRowBlock"/> false), or with strided X, Z or metric, the two operations run one after the
    /// other, in blocks of rows of X; so they do where X has fewer 128-row blocks than there are threads (the tiles would
    /// leave threads idle). F is the same up to the rounding of the sums' order: the tiles' products are added column block
    /// by column block.
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <typeparam name="TKernel">The kernel type.</typeparam>
    /// <param name="kernel">The kernel.</param>
    /// <param name="x">X, n × d.</param>
    /// <param name="z">Z, m × d.</param>
    /// <param name="metric">The metric (d × d, or 1 × d for a diagonal one), or null for the identity.</param>
    /// <param name="alpha">α, m × c.</param>
    /// <param name="result">F, n × c (overwritten).</param>
    /// <exception cref="ArgumentException">A buffer belongs to another backend, or the shapes do not fit together.</exception>
    internal void KernelProduct<T, TKernel>(in TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> alpha, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var (mx, mz, ma, mf) = (Own(x, nameof(x)), Own(z, nameof(z)), Own(alpha, nameof(alpha)), Own(result, nameof(result)));
        var mm = metric is null ? null : Own(metric, nameof(metric));
        if (z.Cols != x.Cols)
        {
            throw new ArgumentException($"X has {x.Cols} columns but Z has {z.Cols}: both must have the same dimension.", nameof(z));
        }

        if (alpha.Rows != z.Rows)
        {
            throw new ArgumentException($"Kernel product: alpha has {alpha.Rows} rows; Z has {z.Rows} (one coefficient row per centre).", nameof(alpha));
        }

        if (result.Rows != x.Rows || result.Cols != alpha.Cols)
        {
            throw new ArgumentException($"Kernel product: the result must be {x.Rows} x {alpha.Cols} (X's rows by alpha's columns) but is {result.Rows} x {result.Cols}.", nameof(result));
        }

        Shapes.CheckMetric(x.Cols, metric);
        if (ReferenceEquals(result, x) || ReferenceEquals(result, z) || ReferenceEquals(result, alpha) || ReferenceEquals(result, metric))
        {
            throw new ArgumentException("The result of the kernel product may not alias its inputs.", nameof(result));
        }

        if (result.Length == 0)
        {
            return;
        }

        if (z.Rows == 0)
        {
            Scale(T.Zero, result);
            return;
        }

        var normKernel = kernel.Geometry == KernelGeometry.InnerProductAndNorms ? KernelFunctionExtensions.NormDependent(kernel, nameof(kernel)) : null;
        int rowBlocks = (x.Rows + KernelRowBlock - 1) / KernelRowBlock;
        if (!KernelGemmPerRowBlock || !x.IsContiguous || !z.IsContiguous || (metric is not null && !metric.IsContiguous) || rowBlocks < Threads)
        {
            // The kernel matrix and a GEMM, a block of rows of X at a time (K at most KernelProductBlockElements at once).
            // Also where X has fewer 128-row blocks than there are threads: the tiles would leave threads idle, while the
            // GEMM shares its work among all of them.
            KernelProducts.ThroughKernelMatrix(this, kernel, x, z, metric, alpha, result, KernelProductBlockElements);
            return;
        }

        KernelMatrixContiguous(kernel, normKernel, mx, mz, mm, null, null, new Product<T>(ma.Pointer, alpha.LeadingDimension, alpha.Cols, mf.Pointer, result.LeadingDimension));
    }

    /// <summary>
    /// The most elements of K that <see cref="KernelProduct"/> holds at once where it forms the kernel matrix (2²⁴, 128 MiB
    /// in double precision); per thread, so that tests can shrink it to run several blocks. 0 restores the default.
    /// </summary>
    internal static long KernelProductBlockElements
    {
        get => kernelProductBlockElements > 0 ? kernelProductBlockElements : 1L << 24;
        set => kernelProductBlockElements = value;
    }

    [ThreadStatic]
    private static long kernelProductBlockElements;

    /// <summary><c>KernelMatrixContiguous</c> again, for the kernel as its own struct type (<see cref="IKernelVisitor"/>).</summary>
    private sealed class ContiguousCall<T>(
        CpuBackend backend, INormDependentKernel? normKernel, ManagedBuffer<T> x, ManagedBuffer<T> z, ManagedBuffer<T>? metric, ManagedBuffer<T>? result, ManagedBuffer<T>? weights, Product<T>? product)
        : IKernelVisitor
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Visit<TKernel>(in TKernel kernel)
            where TKernel : struct, IKernelFunction =>
            backend.KernelMatrixContiguous(kernel, normKernel, x, z, metric, result, weights, product);
    }

    /// <summary>The α and F of <see cref="KernelProduct"/>: F (n × <see cref="Outputs"/>) = K·α.</summary>
    private readonly struct Product<T>(T* alpha, int ldAlpha, int outputs, T* result, int ldResult)
        where T : unmanaged
    {
        public readonly T* Alpha = alpha, Result = result;
        public readonly int LdAlpha = ldAlpha, Outputs = outputs, LdResult = ldResult;
    }

    /// <summary>
    /// The kernel matrix on contiguous operands into <paramref name="mr"/> (and W into <paramref name="mwt"/>), or, with
    /// <paramref name="product"/> (and no <paramref name="mr"/>), its product with α.
    /// </summary>
    private void KernelMatrixContiguous<T, TKernel>(
        TKernel kernel, INormDependentKernel? normKernel, ManagedBuffer<T> mx, ManagedBuffer<T> mz, ManagedBuffer<T>? metric, ManagedBuffer<T>? mr, ManagedBuffer<T>? mwt, Product<T>? product)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        // A kernel passed as the interface (as the estimators hold it) would be called through it per tile row, a generic
        // virtual call: the library's kernels re-enter here as their own struct types (IKernelFunction.Accept), so that the
        // tiles call their profiles directly and the radial ones take the one-pass epilogue (Fused). Other kernels go on.
        lastKernelUsedGaussianProducts = false;
        if (!typeof(TKernel).IsValueType && kernel.Accept(new ContiguousCall<T>(this, normKernel, mx, mz, metric, mr, mwt, product)))
        {
            return;
        }

        int n = mx.Rows, m = mz.Rows, d = mx.Cols;
        bool radial = kernel.Geometry == KernelGeometry.Radial;
        bool same = ReferenceEquals(mx, mz);
        ManagedBuffer<T>? xCentred = null, zCentred = null;

        // Sparse centres (one-hot inputs): the tiles' inner products sum over each z_j's non-zeros instead of running a GEMM.
        // Centring would fill Z in, so a radial kernel keeps sparse data uncentred where both operands are sparse and Z's
        // mean is small next to their spread in the metric's norm (then ‖x‖² + ‖z‖² stays within a small factor of the
        // centred norms and the cancellation it guards against cannot grow); otherwise it centres and multiplies densely.
        var sparseZ = KernelGemmPerRowBlock ? SparseRows<T>.Detect(mz.Span, m, d) : null;
        var sparseX = sparseZ is null ? null : same ? sparseZ : SparseRows<T>.Detect(mx.Span, n, d);
        try
        {
            if (radial && !(sparseZ is not null && sparseX is not null && KernelCentring.MeanIsSmall<T>(sparseX, sparseZ, metric is null ? default : metric.Span, d)))
            {
                (sparseX, sparseZ) = (null, null);
                // ‖x − z‖ is shift-invariant; ‖x‖² + ‖z‖² − 2xᵀz is not: centre both on the mean of Z first, so data far
                // from the origin keeps its distances (issue 13).
                var centre = KernelCentring.ColumnMeans<T>(mz.Span, m, d);
                xCentred = (ManagedBuffer<T>)Allocate<T>(n, d);
                KernelCentring.Subtract<T>(mx.Span, centre, xCentred.Span);
                zCentred = same ? xCentred : (ManagedBuffer<T>)Allocate<T>(m, d);
                if (!same)
                {
                    KernelCentring.Subtract<T>(mz.Span, centre, zCentred.Span);
                }

                (mx, mz) = (xCentred, zCentred);
            }

            KernelMatrixCore(kernel, normKernel, mx, mz, metric, mr, mwt, radial, same, sparseX, sparseZ, product);
        }
        finally
        {
            xCentred?.Dispose();
            if (!same)
            {
                zCentred?.Dispose();
            }
        }
    }

    private void KernelMatrixCore<T, TKernel>(
        TKernel kernel, INormDependentKernel? normKernel, ManagedBuffer<T> mx, ManagedBuffer<T> mz, ManagedBuffer<T>? metric, ManagedBuffer<T>? mr, ManagedBuffer<T>? mwt, bool radial, bool same, SparseRows<T>? sparseX, SparseRows<T>? sparseZ,
        Product<T>? product)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        int n = mx.Rows, m = mz.Rows, d = mx.Cols;

        // XM = X·M (n × d) and ZT = Zᵀ (d × m); norms x_iᵀMx_i, z_jᵀMz_j for radial kernels. The temporaries come from
        // the buffer pool, so an RFM round reuses them.
        using var xmStore = metric is null ? null : ApplyMetric(mx, metric, sparseX);
        using var zt = sparseZ is null ? (ManagedBuffer<T>)Allocate<T>(d, m) : null;
        if (zt is not null)
        {
            TransposeInto(mz.Span, m, d, zt.Span);
        }

        T[]? xNorms = null, zNorms = null;
        if (radial || normKernel is not null)
        {
            xNorms = RowDots((xmStore ?? mx).Span, mx.Span, n, d);
            if (same)
            {
                zNorms = xNorms;
            }
            else
            {
                using var zm = metric is null ? null : ApplyMetric(mz, metric, sparseZ);
                zNorms = RowDots((zm ?? mz).Span, mz.Span, m, d);
            }

            KernelCentring.CheckNorms<T>(xNorms, "x");
            KernelCentring.CheckNorms<T>(zNorms, "z");
        }

        var xm = xmStore ?? mx;
        using var gaussian = GaussianFactors<T>.TryCreate(this, kernel, radial, normKernel, sparseZ, xm, xmOwned: xmStore is not null, xNorms, zNorms, same);
        lastKernelUsedGaussianProducts = gaussian is not null;
        bool perBlock = KernelGemmPerRowBlock;
        System.Diagnostics.Debug.Assert(product is null || (perBlock && mr is null), "A product runs tile by tile (KernelGemmPerRowBlock) and forms no K.");
        if (!perBlock)
        {
            GemmCore(false, false, n, m, d, T.One, xm.Pointer, d, zt!.Pointer, m, T.Zero, mr!.Pointer, m, Threads);
        }

        // K(X, X) of a kernel of u alone with a symmetric metric is symmetric, and so is W: each row block computes only
        // the tiles left of its diagonal block and the diagonal block itself, and mirrors the former into the upper
        // triangle while they are in cache. Half the GEMM, half the kernel profiles.
        bool mirror = perBlock && same && normKernel is null && product is null && (metric is null || IsSymmetric(metric));
        int blocks = (n + KernelRowBlock - 1) / KernelRowBlock;
        int width = KernelColumnBlock<T>();
        var tile = mr is null ? default : new KernelTile<T, TKernel>(kernel, normKernel, mr.Pointer, mwt is null ? null : mwt.Pointer, m, xNorms, zNorms, radial);
        // Decided once, so that every worker that streamed a tile also fences (tests switch the setting while others run).
        bool stream = mirror && MirrorStreamsHere<T>();
        int next = -1;
        Managed.ComputeThreads.Run(Math.Min(Threads, blocks), _ =>
        {
            // A product's tiles go to a private tile (row stride = the column block) instead of K: written at
            // tileBase + i·ld + j for the global row i and column j, as they would be into K.
            T* privateTile = product is null ? null : (T*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)((long)KernelRowBlock * width * sizeof(T)), 64);
            try
            {
                int claimed;
                while ((claimed = Interlocked.Increment(ref next)) < blocks)
                {
                    // Mirrored, row block b has (b + 1) tiles' worth of work: hand out the long ones first.
                    int block = mirror ? blocks - 1 - claimed : claimed;
                    int i0 = block * KernelRowBlock;
                    int rows = Math.Min(KernelRowBlock, n - i0);
                    int end = mirror ? i0 + rows : m;
                    for (int j0 = 0; j0 < end;)
                    {
                        int cols = Math.Min(width, end - j0);
                        if (mirror && j0 < i0)
                        {
                            cols = Math.Min(cols, i0 - j0);
                        }

                        int ld = product is null ? m : width;
                        T* tileBase = product is null ? mr!.Pointer : privateTile - (((long)i0 * width) + j0);
                        if (gaussian is not null)
                        {
                            gaussian.Tile(sparseZ!, i0, rows, j0, cols, tileBase, ld, symmetric: mirror && j0 + cols > i0);
                        }
                        else if (sparseZ is not null)
                        {
                            sparseZ.MultiplyTile(xm.Pointer, d, i0, rows, j0, cols, tileBase, ld);
                        }
                        else if (perBlock)
                        {
                            GemmCore(false, false, rows, cols, d, T.One, xm.Pointer + ((long)i0 * d), d, zt!.Pointer + j0, m, T.Zero, tileBase + ((long)i0 * ld) + j0, ld, 1);
                        }

                        if (product is { } p)
                        {
                            if (gaussian is null)
                            {
                                new KernelTile<T, TKernel>(kernel, normKernel, tileBase, null, ld, xNorms, zNorms, radial).Evaluate(i0, rows, j0, cols);
                            }

                            // F[i0 …, :] (+)= K_tile · α[j0 …, :] while the tile is in L2.
                            GemmCore(false, false, rows, p.Outputs, cols, T.One, privateTile, width, p.Alpha + ((long)j0 * p.LdAlpha), p.LdAlpha, j0 == 0 ? T.Zero : T.One, p.Result + ((long)i0 * p.LdResult), p.LdResult, 1);
                        }
                        else if (gaussian is null)
                        {
                            tile.Evaluate(i0, rows, j0, cols);
                        }
                        else if (mwt is not null)
                        {
                            gaussian.Derivatives(mr!.Pointer, mwt.Pointer, m, i0, rows, j0, cols);
                        }

                        if (mirror && j0 + cols <= i0)
                        {
                            MirrorTile(mr!.Pointer, m, i0, rows, j0, cols, stream);
                            if (mwt is not null)
                            {
                                MirrorTile(mwt.Pointer, m, i0, rows, j0, cols, stream);
                            }
                        }

                        j0 += cols;
                    }
                }
            }
            finally
            {
                System.Runtime.InteropServices.NativeMemory.AlignedFree(privateTile);
            }

            if (stream)
            {
                // The streamed lines reach memory before this worker reports its region done.
                System.Runtime.Intrinsics.X86.Sse.StoreFence();
            }
        });
    }

    /// <summary>Columns of one kernel-matrix tile: a row of it is 2 KiB, so the tile (128 rows) and its packed B stay in L2.</summary>
    private static int KernelColumnBlock<T>()
        where T : unmanaged => Math.Max(KernelRowBlock, 2048 / sizeof(T));

    /// <summary>Whether a metric (a d × d matrix or the d-vector of a diagonal one) is exactly symmetric.</summary>
    private static bool IsSymmetric<T>(ManagedBuffer<T> metric)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (metric.Rows != metric.Cols)
        {
            return true;
        }

        int d = metric.Rows;
        T* p = metric.Pointer;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (p[((long)i * d) + j] != p[((long)j * d) + i])
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Copies the tile (rows i0.., columns j0..) of a row-major matrix with row stride ld onto its transpose; with
    /// <paramref name="stream"/> (only where <see cref="MirrorStreamsHere{T}"/>) through <see cref="MirrorTileStreaming"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void MirrorTile<T>(T* a, int ld, int i0, int rows, int j0, int cols, bool stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (stream && rows <= KernelRowBlock)
        {
            MirrorTileStreaming(a + ((long)i0 * ld) + j0, a + ((long)j0 * ld) + i0, ld, rows, cols);
            return;
        }

        // 8 × 8 blocks through registers (a vector load per source row, a vector store per destination row), then the
        // edges element by element. The source is the tile just computed (in cache); destination rows are written 8 wide.
        T* src = a + ((long)i0 * ld) + j0;
        T* dst = a + ((long)j0 * ld) + i0;
        bool vector = Managed.Transpose8<T>.Supported;
        int rows8 = vector ? rows / 8 * 8 : 0, cols8 = vector ? cols / 8 * 8 : 0;
        for (int c0 = 0; c0 < cols8; c0 += 8)
        {
            for (int r0 = 0; r0 < rows8; r0 += 8)
            {
                Managed.Transpose8<T>.Block(src + ((long)r0 * ld) + c0, ld, dst + ((long)c0 * ld) + r0, ld, T.One, scale: false);
            }
        }

        for (int c = 0; c < cols; c++)
        {
            T* to = dst + ((long)c * ld);
            for (int r = c < cols8 ? rows8 : 0; r < rows; r++)
            {
                to[r] = src[((long)r * ld) + c];
            }
        }
    }

    /// <summary>
    /// Whether the symmetric kernel matrix's mirror uses non-temporal stores where it can (<see cref="MirrorTileStreaming"/>);
    /// both ways write the same bits. Read once per kernel matrix; tests switch it to compare the two.
    /// </summary>
    internal static bool MirrorStreams { get; set; } = true;

    /// <summary>
    /// Whether <see cref="MirrorTile"/> streams its stores: where the GEMM runs its AVX-512 kernel (AVX-512F present and not
    /// restricted by <c>FEATURELEARNING_SIMD</c>), which the 8 × 8 transposes and the 64-byte stores need.
    /// </summary>
    internal static bool MirrorStreamsHere<T>()
        where T : unmanaged, IFloatingPointIeee754<T> => MirrorStreams && Managed.PackedGemm<T>.SimdBits == 512;

    /// <summary>
    /// <see cref="MirrorTile"/> with non-temporal stores: eight source columns at a time are transposed in registers into a
    /// cached stage (eight rows of at most <see cref="KernelRowBlock"/> values), and each stage row goes to its destination row
    /// as whole, aligned cache lines that bypass the caches, with ordinary stores for the part of a line before the first
    /// boundary and after the last whole vector. A cached store would first read each destination line from memory
    /// (although all of it is about to be overwritten) and evict the tiles in use; the upper triangle is not read again
    /// while the matrix is being built. Each worker of <c>KernelMatrixCore</c> fences its stores
    /// (<see cref="System.Runtime.Intrinsics.X86.Sse.StoreFence"/>) at the end of its loop.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private static void MirrorTileStreaming<T>(T* src, T* dst, int ld, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int v = Vector512<T>.Count;
        // Every stage element that is read was written first, so the stage is not cleared.
        T* store = stackalloc T[(8 * KernelRowBlock) + v];
        T* stage = (T*)(((nint)store + 63) & ~(nint)63);
        int rows8 = rows / 8 * 8;
        for (int c0 = 0; c0 < cols; c0 += 8)
        {
            int width = Math.Min(8, cols - c0);
            if (width == 8)
            {
                for (int r0 = 0; r0 < rows8; r0 += 8)
                {
                    Managed.Transpose8<T>.Block(src + ((long)r0 * ld) + c0, ld, stage + r0, KernelRowBlock, T.One, scale: false);
                }
            }

            for (int c = 0; c < width; c++)
            {
                T* row = stage + (c * KernelRowBlock);
                for (int r = width == 8 ? rows8 : 0; r < rows; r++)
                {
                    row[r] = src[((long)r * ld) + c0 + c];
                }

                // Up to the first line boundary and after the last whole vector element by element; whole lines between.
                T* to = dst + ((long)(c0 + c) * ld);
                int head = Math.Min(rows, (int)((64 - ((nint)to & 63)) & 63) / sizeof(T));
                int r2 = 0;
                for (; r2 < head; r2++)
                {
                    to[r2] = row[r2];
                }

                for (; r2 + v <= rows; r2 += v)
                {
                    StreamVector(to + r2, Vector512.Load(row + r2));
                }

                for (; r2 < rows; r2++)
                {
                    to[r2] = row[r2];
                }
            }
        }
    }

    /// <summary>A non-temporal store of one vector at a 64-byte aligned address.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void StreamVector<T>(T* to, Vector512<T> value)
        where T : unmanaged
    {
        if (typeof(T) == typeof(double))
        {
            System.Runtime.Intrinsics.X86.Avx512F.StoreAlignedNonTemporal((double*)to, value.AsDouble());
        }
        else
        {
            System.Runtime.Intrinsics.X86.Avx512F.StoreAlignedNonTemporal((float*)to, value.AsSingle());
        }
    }

    /// <summary>
    /// The epilogue of the kernel matrix on one tile, row by row: the GEMM's inner products become squared distances
    /// (radial kernels), then kernel values, and derivative weights when asked for, while the tile is in cache. The library's
    /// radial kernels do it in one pass (<see cref="Fused"/>, the distances never stored); norm-dependent kernels take
    /// κ(u, a, b) from the inner products and both norms.
    /// </summary>
    private readonly struct KernelTile<T, TKernel>(TKernel kernel, INormDependentKernel? normKernel, T* k, T* w, int m, T[]? xNorms, T[]? zNorms, bool radial)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public void Evaluate(int i0, int rows, int j0, int cols)
        {
            bool fused = radial && FusedProfiles;
            TKernel profile = kernel;
            for (int i = i0; i < i0 + rows; i++)
            {
                var row = new Span<T>(k + ((long)i * m) + j0, cols);
                if (normKernel is not null)
                {
                    // κ(u, a, b): the derivatives first (they read u), then the values in place. W has 2m columns.
                    var zn = zNorms.AsSpan(j0, cols);
                    if (w != null)
                    {
                        T* wi = w + ((long)i * 2 * m);
                        normKernel.EvaluateRowDerivatives<T>(row, xNorms![i], zn, new Span<T>(wi + j0, cols), new Span<T>(wi + m + j0, cols));
                    }

                    normKernel.EvaluateRow<T>(row, xNorms![i], zn, row);
                    continue;
                }

                Span<T> stat = w == null ? row : new Span<T>(w + ((long)i * m) + j0, cols);
                if (fused && Fused(ref profile, row, xNorms![i], zNorms.AsSpan(j0, cols), w == null ? default : stat))
                {
                    continue;
                }

                if (radial)
                {
                    SquaredDistances(row, xNorms![i], zNorms.AsSpan(j0, cols), stat);
                }
                else if (w != null)
                {
                    row.CopyTo(stat);
                }

                if (w != null)
                {
                    profile.EvaluateWithDerivative<T>(stat, row, stat);
                }
                else
                {
                    profile.Evaluate<T>(stat, row);
                }
            }
        }
    }

    /// <summary>
    /// Whether the kernel tiles evaluate the library's radial kernels straight from the inner products (<see cref="Fused"/>; default
    /// true). Tests switch it off to check that both ways give the same bits.
    /// </summary>
    internal static bool FusedProfiles { get; set; } = true;

    /// <summary>
    /// The library's radial kernels (<see cref="FeatureLearning.Kernels.IFusedRadialProfile"/>) from the inner products in one pass,
    /// values over <paramref name="g"/> and derivatives into <paramref name="derivatives"/> unless it is empty; false for any
    /// other kernel, which then takes the squared distances and its span methods. Chosen by the struct type, so that the call
    /// is direct (<c>KernelMatrixContiguous</c> re-enters with a library kernel passed as the interface as its struct type).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool Fused<T, TKernel>(ref TKernel kernel, Span<T> g, T xNorm, ReadOnlySpan<T> zNorms, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        if (typeof(TKernel) == typeof(FeatureLearning.Kernels.GaussianKernel))
        {
            CallFused(ref System.Runtime.CompilerServices.Unsafe.As<TKernel, FeatureLearning.Kernels.GaussianKernel>(ref kernel), g, xNorm, zNorms, derivatives);
            return true;
        }

        if (typeof(TKernel) == typeof(FeatureLearning.Kernels.LaplaceKernel))
        {
            CallFused(ref System.Runtime.CompilerServices.Unsafe.As<TKernel, FeatureLearning.Kernels.LaplaceKernel>(ref kernel), g, xNorm, zNorms, derivatives);
            return true;
        }

        if (typeof(TKernel) == typeof(FeatureLearning.Kernels.GeneralizedLaplaceKernel))
        {
            CallFused(ref System.Runtime.CompilerServices.Unsafe.As<TKernel, FeatureLearning.Kernels.GeneralizedLaplaceKernel>(ref kernel), g, xNorm, zNorms, derivatives);
            return true;
        }

        return false;
    }

    private static void CallFused<T, TKernel>(ref TKernel kernel, Span<T> g, T xNorm, ReadOnlySpan<T> zNorms, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, FeatureLearning.Kernels.IFusedRadialProfile =>
        kernel.EvaluateFromInnerProducts<T>(g, xNorm, zNorms, g, derivatives);

    /// <summary>s_j = max(‖x‖² + ‖z_j‖² − 2 g_j, 0), set to exactly 0 below the rounding level of the GEMM.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void SquaredDistances<T>(ReadOnlySpan<T> g, T xNorm, ReadOnlySpan<T> zNorms, Span<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T tol = FeatureLearning.Kernels.ProfileLoop.DistanceTolerance<T>();
        int j = 0;
        if (SimdVector.IsHardwareAccelerated && System.Numerics.Vector<T>.IsSupported)
        {
            var vx = new System.Numerics.Vector<T>(xNorm);
            var two = new System.Numerics.Vector<T>(T.CreateTruncating(2));
            var vtol = new System.Numerics.Vector<T>(tol);
            int w = System.Numerics.Vector<T>.Count;
            for (; j <= g.Length - w; j += w)
            {
                var zn = new System.Numerics.Vector<T>(zNorms.Slice(j, w));
                var sum = vx + zn;
                var v = sum - (two * new System.Numerics.Vector<T>(g.Slice(j, w)));
                v = SimdVector.ConditionalSelect(SimdVector.GreaterThan(v, vtol * sum), v, System.Numerics.Vector<T>.Zero);
                v.CopyTo(s.Slice(j, w));
            }
        }

        for (; j < g.Length; j++)
        {
            s[j] = FeatureLearning.Kernels.ProfileLoop.SquaredDistance(g[j], xNorm, zNorms[j]);
        }
    }

    /// <summary>X·M (n × d) in a pooled buffer the caller disposes; a sparse X (its <paramref name="pattern"/>) sums rows of M.</summary>
    private ManagedBuffer<T> ApplyMetric<T>(ManagedBuffer<T> x, ManagedBuffer<T> metric, SparseRows<T>? pattern)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Rows, d = x.Cols;
        var xm = (ManagedBuffer<T>)Allocate<T>(n, d);
        if (metric.Rows == d && metric.Cols == d && d > 1 && pattern is not null)
        {
            pattern.MultiplyDense(metric.Pointer, d, d, xm.Span);
        }
        else if (metric.Rows == d && metric.Cols == d && d > 1)
        {
            GemmCore(false, false, n, d, d, T.One, x.Pointer, d, metric.Pointer, d, T.Zero, xm.Pointer, d, Threads);
        }
        else
        {
            var diag = metric.Span;
            for (int i = 0; i < n; i++)
            {
                TensorPrimitives.Multiply(x.Span.Slice(i * d, d), diag, xm.Span.Slice(i * d, d));
            }
        }

        return xm;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static T[] RowDots<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, int n, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[n];
        for (int i = 0; i < n; i++)
        {
            r[i] = TensorPrimitives.Dot(a.Slice(i * d, d), b.Slice(i * d, d));
        }

        return r;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void TransposeInto<T>(ReadOnlySpan<T> src, int rows, int cols, Span<T> dst)
    {
        const int tile = 32;
        for (int i0 = 0; i0 < rows; i0 += tile)
        {
            for (int j0 = 0; j0 < cols; j0 += tile)
            {
                int i1 = Math.Min(rows, i0 + tile), j1 = Math.Min(cols, j0 + tile);
                for (int i = i0; i < i1; i++)
                {
                    for (int j = j0; j < j1; j++)
                    {
                        dst[(j * rows) + i] = src[(i * cols) + j];
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (s, d) = (Own(source, nameof(source)), Own(destination, nameof(destination)));
        bool whole = s.IsContiguous && d.IsContiguous;
        if (whole)
        {
            Shapes.CheckSameLength(source, destination, nameof(destination));
        }
        else
        {
            Shapes.CheckSameShape(source, destination, nameof(destination));
        }

        ForEachPiece(s.RunCount(whole), s.RunLength(whole), (r, start, count) => s.Run(r, whole).Slice(start, count).CopyTo(d.Run(r, whole).Slice(start, count)));
    }

    /// <summary>Elements per piece of <see cref="ForEachPiece"/> (512 KiB of doubles; a multiple of <see cref="DotChunk"/>).</summary>
    private const int PieceLength = 1 << 16;

    /// <summary>
    /// Runs <paramref name="body"/>(run, start, count) over <paramref name="runs"/> runs of <paramref name="runLength"/> elements,
    /// shared by the threads in pieces of about <see cref="PieceLength"/> elements (parts of a long run, or groups of whole
    /// short runs) when there are at least two pieces' worth: the element-wise passes over n × n buffers (copies,
    /// conversions, scaling, dot products) are memory-bound, and one core does not draw the memory bandwidth that two do.
    /// </summary>
    private void ForEachPiece(int runs, int runLength, Action<int, int, int> body)
    {
        if (Threads == 1 || (long)runs * runLength < 2L * PieceLength)
        {
            for (int r = 0; r < runs; r++)
            {
                body(r, 0, runLength);
            }

            return;
        }

        if (runLength < PieceLength)
        {
            int group = PieceLength / runLength;
            Managed.ComputeThreads.For((runs + group - 1) / group, Threads, q =>
            {
                for (int r = q * group, end = Math.Min(runs, (q + 1) * group); r < end; r++)
                {
                    body(r, 0, runLength);
                }
            });
            return;
        }

        int perRun = (runLength + PieceLength - 1) / PieceLength;
        Managed.ComputeThreads.For(checked(runs * perRun), Threads, q =>
        {
            int r = (int)(q / perRun), start = (int)(q % perRun) * PieceLength;
            body(r, start, Math.Min(PieceLength, runLength - start));
        });
    }

    /// <inheritdoc />
    public void Convert<TSource, TDestination>(DeviceBuffer<TSource> source, DeviceBuffer<TDestination> destination)
        where TSource : unmanaged, IFloatingPointIeee754<TSource>
        where TDestination : unmanaged, IFloatingPointIeee754<TDestination>
    {
        var (s, d) = (Own(source, nameof(source)), Own(destination, nameof(destination)));
        Shapes.CheckConvert(source, destination);
        bool whole = s.IsContiguous && d.IsContiguous;
        ForEachPiece(
            s.RunCount(whole),
            s.RunLength(whole),
            (r, start, count) => TensorPrimitives.ConvertTruncating<TSource, TDestination>(s.Run(r, whole).Slice(start, count), d.Run(r, whole).Slice(start, count)));
    }

    /// <inheritdoc />
    public void Scale<T>(T alpha, DeviceBuffer<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mx = Own(x, nameof(x));
        bool whole = mx.IsContiguous;
        ForEachPiece(mx.RunCount(whole), mx.RunLength(whole), (r, start, count) =>
        {
            var s = mx.Run(r, whole).Slice(start, count);
            if (alpha == T.Zero)
            {
                s.Clear();
            }
            else
            {
                TensorPrimitives.Multiply(s, alpha, s);
            }
        });
    }

    /// <inheritdoc />
    public void Axpy<T>(T alpha, DeviceBuffer<T> x, DeviceBuffer<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mx, my) = (Own(x, nameof(x)), Own(y, nameof(y)));
        Shapes.CheckSameShape(x, y, nameof(y));
        bool whole = mx.IsContiguous && my.IsContiguous;
        ForEachPiece(mx.RunCount(whole), mx.RunLength(whole), (r, start, count) =>
        {
            var y = my.Run(r, whole).Slice(start, count);
            TensorPrimitives.MultiplyAdd(mx.Run(r, whole).Slice(start, count), alpha, y, y);
        });
    }

    /// <inheritdoc />
    public void AddDiagonal<T>(DeviceBuffer<T> a, T value)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ma = Own(a, nameof(a));
        Shapes.CheckSquare(a, nameof(a));
        for (int i = 0; i < a.Rows; i++)
        {
            ma.Row(i)[i] += value;
        }
    }

    /// <inheritdoc />
    public void Hadamard<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mb, mc) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(c, nameof(c)));
        Shapes.CheckHadamard(a, b, c);
        bool whole = ma.IsContiguous && mb.IsContiguous && mc.IsContiguous;
        for (int i = 0; i < ma.RunCount(whole); i++)
        {
            TensorPrimitives.Multiply(ma.Run(i, whole), mb.Run(i, whole), mc.Run(i, whole));
        }
    }

    /// <inheritdoc />
    public void ScaleColumns<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> => ScaleByVector(a, v, byRow: false);

    /// <inheritdoc />
    public void ScaleRows<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> => ScaleByVector(a, v, byRow: true);

    /// <summary>Scales the columns of A by v (or its rows, <paramref name="byRow"/>), A row by row so it may be a strided view.</summary>
    private void ScaleByVector<T>(DeviceBuffer<T> a, DeviceBuffer<T> v, bool byRow)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mv) = (Own(a, nameof(a)), Own(v, nameof(v)));
        Shapes.CheckVector(v, byRow ? a.Rows : a.Cols, nameof(v));
        var factors = mv.IsContiguous ? mv.Span : Gather(mv);
        for (int i = 0; i < a.Rows; i++)
        {
            var row = ma.Row(i);
            if (byRow)
            {
                TensorPrimitives.Multiply(row, factors[i], row);
            }
            else
            {
                TensorPrimitives.Multiply(row, factors, row);
            }
        }
    }

    /// <summary>The elements of a strided vector view (n × 1 with leading dimension &gt; 1), in order.</summary>
    private static Span<T> Gather<T>(ManagedBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[v.Length];
        for (int k = 0; k < result.Length; k++)
        {
            result[k] = v.Vector(k);
        }

        return result;
    }

    /// <inheritdoc />
    public void RowKronecker<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mb, mr) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(result, nameof(result)));
        Shapes.CheckRowKronecker(a, b, result);
        int c = a.Cols, d = b.Cols;
        Managed.ComputeThreads.For(a.Rows, Threads, i =>
        {
            Span<T> ai = ma.Row(i), bi = mb.Row(i), ri = mr.Row(i);
            for (int k = 0; k < c; k++)
            {
                TensorPrimitives.Multiply(bi, ai[k], ri.Slice(k * d, d));
            }
        });
    }

    /// <inheritdoc />
    /// <remarks>In place on the pinned storage, rows split over the worker threads.</remarks>
    public void GatherColumns<T>(DeviceBuffer<T> source, ReadOnlySpan<int> columns, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ms, md) = (Own(source, nameof(source)), Own(destination, nameof(destination)));
        Shapes.CheckGatherColumns(source, columns, destination);
        if (md.LongLength == 0)
        {
            return;
        }

        int[] index = columns.ToArray();
        const int rowsPerTask = 16;
        int tasks = (source.Rows + rowsPerTask - 1) / rowsPerTask;
        Managed.ComputeThreads.For(tasks, Threads, block =>
        {
            int end = Math.Min(source.Rows, (block + 1) * rowsPerTask);
            for (int i = block * rowsPerTask; i < end; i++)
            {
                Span<T> from = ms.Row(i), to = md.Row(i);
                for (int t = 0; t < index.Length; t++)
                {
                    to[t] = from[index[t]];
                }
            }
        });
    }

    /// <summary>
    /// H += RRᵀ for the AGOP's sparse direct gradients, built in cached blocks by a register-blocked kernel
    /// (<see cref="Managed.SparseGradientKernel{T}"/>) and never stored whole: R[l, j·c + k] = x_jl·s_jk + Σ_{t ∈ column l}
    /// W'[j, i_t]·B⁻[t, k] for the sample rows j of <paramref name="weights"/>, with the column pattern of X_c and its negated,
    /// packed coefficients B⁻ (<see cref="Managed.SparseGradientKernel{T}.Pack"/>). H stays symmetric.
    /// </summary>
    /// <param name="weights">W' (rows × n).</param>
    /// <param name="start">d + 1 column offsets into <paramref name="centreRows"/>.</param>
    /// <param name="centreRows">The row of X_c of each non-zero, column by column.</param>
    /// <param name="packed">B⁻ packed by output block (<see cref="Managed.SparseGradientKernel{T}.PackedLength"/> elements).</param>
    /// <param name="outputs">c, the outputs.</param>
    /// <param name="s">S (rows × c), or null for no x·s term.</param>
    /// <param name="xs">X_s (rows × d), read where <paramref name="s"/> is given.</param>
    /// <param name="h">H (d × d), added to.</param>
    /// <param name="oneHotGroup">A one-hot group of X_c's columns (<see cref="FeatureLearning.Rfm.SparseColumns.OneHotGroup"/>: every
    /// centre has exactly one non-zero in them, and its value is 1; the pattern here shows the first, checked, but not the values,
    /// which <paramref name="packed"/> holds multiplied by the coefficients), or null: with one, <paramref name="s"/> is written
    /// (S = f·Wα read off the gradients, with f the factor in <paramref name="packed"/>) instead of read.</param>
    /// <param name="rowSums">The row sums (rows × 1, contiguous), added to with <paramref name="rowSumScale"/>·Σ_i W[j, i] for the
    /// given weights W; or null.</param>
    /// <param name="rowSumScale">The factor of the row sums (non-zero where <paramref name="rowSums"/> is given).</param>
    internal void AddSparseAgopOuterProducts<T>(
        DeviceBuffer<T> weights, int[] start, int[] centreRows, T[] packed, int outputs, DeviceBuffer<T>? s, DeviceBuffer<T> xs, DeviceBuffer<T> h,
        int[]? oneHotGroup, DeviceBuffer<T>? rowSums, T rowSumScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (weights.Rows != xs.Rows)
        {
            throw new ArgumentException($"Sparse AGOP gradients: W' has {weights.Rows} rows, X_s {xs.Rows}.", nameof(weights));
        }

        AddSparseAgopOuterProducts(weights, fromKernel: false, T.Zero, 0, start, centreRows, packed, outputs, s, xs, h, oneHotGroup, rowSums, rowSumScale);
    }

    /// <summary>
    /// The same sum with the sample rows the centres <paramref name="rowOffset"/> … and W read off the strict upper triangle of
    /// the kernel matrix <paramref name="kernelMatrix"/> (n × n, its lower triangle and diagonal free to hold a Cholesky factor):
    /// W[j, i] = <paramref name="weightScale"/>·K[min(i, j), max(i, j)] off the diagonal, for a kernel with ∂k/∂u = scale·k (the
    /// Gaussian), and 0 on it, where its term drops out of the gradient (<see cref="Managed.SparseGradientKernel{T}.AddOuterProducts"/>).
    /// No W is stored.
    /// </summary>
    /// <param name="kernelMatrix">K (n × n), its strict upper triangle read.</param>
    /// <param name="weightScale">The factor of K in W (finite).</param>
    /// <param name="rowOffset">The centre of the first sample row of <paramref name="xs"/>.</param>
    /// <param name="start">d + 1 column offsets into <paramref name="centreRows"/>.</param>
    /// <param name="centreRows">The row of X_c of each non-zero, column by column.</param>
    /// <param name="packed">B⁻ packed by output block.</param>
    /// <param name="outputs">c, the outputs.</param>
    /// <param name="s">S (rows × c), or null for no x·s term.</param>
    /// <param name="xs">X_s (rows × d): the centres from <paramref name="rowOffset"/> on.</param>
    /// <param name="h">H (d × d), added to.</param>
    /// <param name="oneHotGroup">A one-hot group of X_c's columns, or null (as in the overload that takes W).</param>
    /// <param name="rowSums">The row sums (rows × 1, contiguous), or null.</param>
    /// <param name="rowSumScale">The factor of the row sums.</param>
    internal void AddSparseAgopOuterProductsFromKernel<T>(
        DeviceBuffer<T> kernelMatrix, T weightScale, int rowOffset, int[] start, int[] centreRows, T[] packed, int outputs, DeviceBuffer<T>? s, DeviceBuffer<T> xs,
        DeviceBuffer<T> h, int[]? oneHotGroup, DeviceBuffer<T>? rowSums, T rowSumScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (kernelMatrix.Rows != kernelMatrix.Cols || rowOffset < 0 || rowOffset > kernelMatrix.Rows - xs.Rows || !T.IsFinite(weightScale))
        {
            throw new ArgumentException(
                $"Sparse AGOP gradients from the kernel matrix: K must be square ({kernelMatrix.Rows} x {kernelMatrix.Cols}) and hold the {xs.Rows} sample rows from {rowOffset} on, and the scale must be finite ({weightScale}).",
                nameof(kernelMatrix));
        }

        AddSparseAgopOuterProducts(kernelMatrix, fromKernel: true, weightScale, rowOffset, start, centreRows, packed, outputs, s, xs, h, oneHotGroup, rowSums, rowSumScale);
    }

    private unsafe void AddSparseAgopOuterProducts<T>(
        DeviceBuffer<T> weights, bool fromKernel, T weightScale, int rowOffset, int[] start, int[] centreRows, T[] packed, int outputs, DeviceBuffer<T>? s,
        DeviceBuffer<T> xs, DeviceBuffer<T> h, int[]? oneHotGroup, DeviceBuffer<T>? rowSums, T rowSumScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mw, mx, mh) = (Own(weights, nameof(weights)), Own(xs, nameof(xs)), Own(h, nameof(h)));
        var ms = s is null ? null : Own(s, nameof(s));
        var msums = rowSums is null ? null : Own(rowSums, nameof(rowSums));
        int rows = xs.Rows, d = xs.Cols, c = outputs;
        if ((oneHotGroup is not null && (s is null || oneHotGroup.Any(l => (uint)l >= (uint)d))) || (rowSums is not null && (rowSums.Rows != rows || rowSums.Cols != 1 || rowSums.LeadingDimension != 1 || rowSumScale == T.Zero)))
        {
            throw new ArgumentException($"Sparse AGOP gradients: a one-hot group needs S and columns within the {d} of X_s; row sums must be a contiguous {rows} x 1 with a non-zero factor, not {rowSums?.Rows} x {rowSums?.Cols} with {rowSumScale}.");
        }

        if (h.Rows != d || h.Cols != d || start.Length != d + 1 || (s is not null && (s.Rows != rows || s.Cols != c))
            || start[0] != 0 || centreRows.Length < start[d] || packed.LongLength < Managed.SparseGradientKernel<T>.PackedLength(start[d], c))
        {
            throw new ArgumentException($"Sparse AGOP gradients: W' {rows} x {weights.Cols}, X_s {xs.Rows} x {d}, H {h.Rows} x {h.Cols}, S {s?.Rows} x {s?.Cols}, {start.Length - 1} pattern columns, {centreRows.Length} non-zero rows and {c} outputs do not fit together.");
        }

        // The kernel reads W'[j, centreRows[t]] through raw pointers: the pattern must lie within W'.
        CheckColumnPattern("Sparse AGOP gradients", start, centreRows, weights.Cols, nameof(centreRows));

        if (oneHotGroup is not null)
        {
            // S read off the group's gradients sums over every centre once: each centre must appear exactly once in its columns.
            var seen = new int[weights.Cols];
            foreach (int l in oneHotGroup)
            {
                for (int t = start[l]; t < start[l + 1]; t++)
                {
                    seen[centreRows[t]]++;
                }
            }

            int wrong = Array.FindIndex(seen, k => k != 1);
            if (wrong >= 0)
            {
                throw new ArgumentException($"Sparse AGOP gradients: centre {wrong} has {seen[wrong]} non-zeros in the one-hot group's columns, not one.", nameof(oneHotGroup));
            }
        }

        if (rows == 0)
        {
            return;
        }

        fixed (T* pp = packed)
        {
            Managed.SparseGradientKernel<T>.AddOuterProducts(
                rows, weights.Cols, d, c, mw.Pointer, weights.LeadingDimension, start, centreRows, pp, ms is null ? null : ms.Pointer, s?.LeadingDimension ?? 0,
                mx.Pointer, xs.LeadingDimension, mh.Pointer, h.LeadingDimension, Threads, oneHotGroup, msums is null ? null : msums.Pointer, rowSumScale,
                fromKernel, weightScale, rowOffset);
        }

        Mirror(mh.Pointer, d, h.LeadingDimension, lowerToUpper: true);
    }

    /// <summary>
    /// C += scale·Xᵀ·B for a sparse X given column by column (<paramref name="start"/>: the d + 1 offsets of its columns'
    /// non-zeros in <paramref name="rows"/> and <paramref name="values"/>; C is d × c) and B (c columns) holding the rows
    /// <paramref name="rowOffset"/> … <paramref name="rowOffset"/> + B.Rows − 1 of X's rows: C[l, ·] += scale·Σ_t
    /// values[t]·w[rows[t]]·B[rows[t] − rowOffset, ·] over column l's non-zeros in that range, with w the
    /// <paramref name="rowWeights"/> (one per row of X) or 1. The AGOP's centring sums X_sᵀS and X_cᵀ(α ∘ W'1) for sparse
    /// inputs: nnz·c multiply-adds on one thread where the GEMM would take d·rows·c.
    /// </summary>
    /// <param name="start">d + 1 column offsets.</param>
    /// <param name="rows">The row of each non-zero.</param>
    /// <param name="values">The value of each non-zero.</param>
    /// <param name="rowOffset">X's row of B's first row.</param>
    /// <param name="b">B (rows × c).</param>
    /// <param name="rowWeights">A weight per row of X (a contiguous vector as long as X has rows), or null.</param>
    /// <param name="scale">The factor of the product.</param>
    /// <param name="c">C (d × c), added to.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void AddSparseTransposedProduct<T>(int[] start, int[] rows, double[] values, int rowOffset, DeviceBuffer<T> b, DeviceBuffer<T>? rowWeights, T scale, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mb, mc) = (Own(b, nameof(b)), Own(c, nameof(c)));
        var mw = rowWeights is null ? null : Own(rowWeights, nameof(rowWeights));
        if (mw is not null && !mw.IsContiguous)
        {
            throw new ArgumentException($"Sparse transposed product: the row weights must be a contiguous vector, not a strided {rowWeights!.Rows} x {rowWeights.Cols} view.", nameof(rowWeights));
        }

        // Rows past the weights (one per row of X) are refused; without weights, rows outside B's range are skipped below.
        CheckColumnPattern("Sparse transposed product", start, rows, mw?.Length ?? int.MaxValue, mw is null ? nameof(rows) : nameof(rowWeights));
        int d = start.Length - 1;
        if (values.Length < start[d])
        {
            throw new ArgumentException($"Sparse transposed product: {start[d]} non-zeros, but {values.Length} values.", nameof(values));
        }

        if (c.Rows != d || c.Cols != b.Cols)
        {
            throw new ArgumentException($"Sparse transposed product: C is {c.Rows} x {c.Cols}; it must be {d} x {b.Cols} (X's columns by B's).", nameof(c));
        }

        var weights = mw is null ? default : mw.Span;
        for (int l = 0; l < d; l++)
        {
            var target = mc.Row(l);
            for (int t = start[l]; t < start[l + 1]; t++)
            {
                int i = rows[t] - rowOffset;
                if ((uint)i >= (uint)b.Rows)
                {
                    continue;
                }

                T f = scale * T.CreateTruncating(values[t]);
                if (mw is not null)
                {
                    f *= weights[rows[t]];
                }

                TensorPrimitives.MultiplyAdd(mb.Row(i), f, target, target);
            }
        }
    }

    /// <summary>
    /// Checks a compressed-sparse-column pattern: d + 1 offsets from 0 that never decrease, a row for each of the start[d]
    /// non-zeros, every row below <paramref name="rowLimit"/> (an <see cref="ArgumentOutOfRangeException"/> naming
    /// <paramref name="limitName"/> otherwise).
    /// </summary>
    private static void CheckColumnPattern(string operation, int[] start, int[] rows, int rowLimit, string limitName)
    {
        if (start.Length == 0 || start[0] != 0)
        {
            throw new ArgumentException($"{operation}: the column offsets must start at 0 (d + 1 of them), not {(start.Length == 0 ? "be empty" : start[0])}.", nameof(start));
        }

        int d = start.Length - 1;
        for (int l = 0; l < d; l++)
        {
            if (start[l + 1] < start[l])
            {
                throw new ArgumentException($"{operation}: the pattern's column offsets decrease at column {l}.", nameof(start));
            }
        }

        if (rows.Length < start[d])
        {
            throw new ArgumentException($"{operation}: {start[d]} non-zeros, but {rows.Length} rows.", nameof(rows));
        }

        for (int t = 0; t < start[d]; t++)
        {
            if ((uint)rows[t] >= (uint)rowLimit)
            {
                throw new ArgumentOutOfRangeException(limitName, $"{operation}: non-zero {t} names row {rows[t]}, outside the {rowLimit} allowed ({limitName}).");
            }
        }
    }

    /// <inheritdoc />
    public void BlockSum<T>(DeviceBuffer<T> a, int rowGroup, int colGroup, T scale, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mr) = (Own(a, nameof(a)), Own(result, nameof(result)));
        Shapes.CheckBlockSum(a, rowGroup, colGroup, result);
        int lda = a.LeadingDimension;
        Managed.ComputeThreads.For(result.Rows, Threads, i =>
            Shapes.BlockSumRow<T>(ma.Extent, lda, i, rowGroup, colGroup, scale, mr.Row(i)));
    }

    /// <inheritdoc />
    public void RowDot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mb, mr) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(result, nameof(result)));
        Shapes.CheckRowDot(a, b, result);
        for (int i = 0; i < a.Rows; i++)
        {
            mr.Vector(i) = TensorPrimitives.Dot<T>(ma.Row(i), mb.Row(i));
        }
    }

    /// <inheritdoc />
    public double Dot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mb) = (Own(a, nameof(a)), Own(b, nameof(b)));
        Shapes.CheckSameShape(a, b, nameof(b));
        bool whole = ma.IsContiguous && mb.IsContiguous;
        int runs = ma.RunCount(whole);
        if (runs == 0)
        {
            return 0;
        }

        // Chunks of DotChunk elements within each run, their dot products in the precision of the data and summed in double
        // in chunk order: the threads share the pieces (whole multiples of DotChunk), and the order of the sum, hence the
        // result, does not depend on them.
        int runLength = ma.RunLength(whole);
        int perRun = (runLength + DotChunk - 1) / DotChunk;
        var partial = new double[(long)runs * perRun];
        ForEachPiece(runs, runLength, (r, start, count) =>
        {
            Span<T> x = ma.Run(r, whole), y = mb.Run(r, whole);
            for (int i = start; i < start + count; i += DotChunk)
            {
                int len = Math.Min(DotChunk, start + count - i);
                partial[((long)r * perRun) + (i / DotChunk)] = double.CreateTruncating(TensorPrimitives.Dot<T>(x.Slice(i, len), y.Slice(i, len)));
            }
        });

        double sum = 0;
        foreach (double v in partial)
        {
            sum += v;
        }

        return sum;
    }

    /// <summary>Elements per partial dot product of <see cref="Dot{T}"/>, each rounded in the precision of the data.</summary>
    private const int DotChunk = 4096;


    /// <summary>One run of an upload or download (<see cref="Operands.Transfer{T, TBuffer}"/>): the whole buffer (row −1) or one row.</summary>
    private static void CopyRun<T>(ManagedBuffer<T> buffer, int row, Span<T> host, bool upload)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var run = row < 0 ? buffer.Span : buffer.Row(row);
        if (upload)
        {
            host.CopyTo(run);
        }
        else
        {
            run.CopyTo(host);
        }
    }

    /// <summary>Copies one triangle onto the other: the lower onto the upper (<paramref name="lowerToUpper"/>) or back.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Mirror<T>(T* a, int n, int lda, bool lowerToUpper)
        where T : unmanaged
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                long upper = ((long)i * lda) + j, lower = ((long)j * lda) + i;
                if (lowerToUpper)
                {
                    a[upper] = a[lower];
                }
                else
                {
                    a[lower] = a[upper];
                }
            }
        }
    }

    /// <summary>The managed buffer behind a buffer of this backend; every operation starts here, so it also rejects a disposed backend.</summary>
    private protected ManagedBuffer<T> Own<T>(DeviceBuffer<T> buffer, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return Operands.Own<T, ManagedBuffer<T>>(this, buffer, name);
    }

    /// <inheritdoc />
    public void ApplyActivation<T>(Networks.Activation activation, int derivativeOrder, DeviceBuffer<T> input, DeviceBuffer<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mi, mo) = (Own(input, nameof(input)), Own(output, nameof(output)));
        ActivationOperands.Check(activation, derivativeOrder, input, output);
        if (!mi.IsContiguous || !mo.IsContiguous)
        {
            Managed.ComputeThreads.For(mi.Rows, Threads, r => ActivationOperands.Apply<T>(activation, derivativeOrder, mi.Row(r), mo.Row(r)));
            return;
        }

        const int chunk = 4096;
        int length = mi.Length, chunks = (length + chunk - 1) / chunk;
        Managed.ComputeThreads.For(chunks, Threads, k =>
        {
            int start = k * chunk, count = Math.Min(chunk, length - start);
            ActivationOperands.Apply<T>(activation, derivativeOrder, mi.Span.Slice(start, count), mo.Span.Slice(start, count));
        });
    }
}
