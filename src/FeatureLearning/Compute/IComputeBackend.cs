using System.Numerics;
using FeatureLearning.Kernels;

namespace FeatureLearning.Compute;

/// <summary>
/// The compute backend of DESIGN.md's layer 4: device buffers, BLAS-3, LAPACK-style factorizations, the
/// fused kernel matrix and the few elementwise primitives the algorithms need. Algorithms are written once
/// against this interface; <see cref="ManagedBackend"/> is the embedded default.
/// </summary>
/// <remarks>
/// <para>Every matrix is a row-major <see cref="DeviceBuffer{T}"/> owned by the backend (see its remarks for
/// the storage convention). Element types are <see cref="float"/> and <see cref="double"/>; other types
/// throw <see cref="NotSupportedException"/>. Operations validate shapes and throw
/// <see cref="ArgumentException"/> naming the offending argument.</para>
/// <para>Views (<see cref="DeviceBuffer{T}.Slice"/>): every operation accepts a view for every buffer argument, a row range
/// (contiguous) or a strided block (<see cref="DeviceBuffer{T}.IsContiguous"/> false, element (i, j) at
/// <see cref="DeviceBuffer{T}.Offset"/> + i·<see cref="DeviceBuffer{T}.LeadingDimension"/> + j of the parent's storage), and
/// the result is the same as the operation on a contiguous copy of the block; an output view is written only inside its
/// block. A vector argument may be an n × 1 column view of a wider matrix. The element-wise, row and BLAS operations and the
/// Cholesky factorization and solve read and write views in place (the leading dimension goes to the loops, the device
/// kernels, BLAS, LAPACK and cuSOLVER); <see cref="KernelMatrix{T, TKernel}"/> copies each strided argument into a pooled
/// contiguous buffer first and its outputs back afterwards, and <see cref="SymmetricEigen{T}"/> goes through host memory
/// anyway. The backend conformance suite checks every operation on views against the same operation on copies.</para>
/// <para>Operations are synchronous from the caller's view: when a method returns, its result can be
/// downloaded.</para>
/// <para>Threads: a backend may be shared by several threads, as <see cref="ComputeBackends.Default"/> is by fits running
/// in parallel. Operations may be called concurrently as long as no buffer that one running operation writes is read or
/// written by another (the rule for arrays); the results are then the same, bit for bit, as if the calls had run one
/// after the other. Every backend in this library keeps that promise: the CPU backends
/// (<see cref="ManagedBackend"/>, the native backend) keep no per-call state outside the call except their buffer pool,
/// which is locked, and run concurrent calls side by side; the ILGPU backend holds a lock for the duration of each
/// operation, so concurrent calls run one after the other. A new implementation must keep it too.
/// <see cref="IDisposable.Dispose"/> must not race with running operations; afterwards every operation throws
/// <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
public interface IComputeBackend : IDisposable
{
    /// <summary>Short name: <c>managed</c>, <c>native</c> or <c>ilgpu</c>.</summary>
    string Name { get; }

    /// <summary>One-string summary: backend, device or library, threads and SIMD width.</summary>
    /// <returns>A human-readable description to print first when something is wrong.</returns>
    string Describe();

    /// <summary>
    /// Waits until all work queued on the backend has finished. Results never need it (a download waits for the work
    /// before it); it is for timing: a GPU backend returns from an operation as soon as the work is queued.
    /// </summary>
    void Synchronize()
    {
    }

    /// <summary>Allocates an uninitialized <paramref name="rows"/> × <paramref name="cols"/> buffer.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns.</param>
    /// <returns>The new buffer; the caller disposes it.</returns>
    DeviceBuffer<T> Allocate<T>(int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Copies host data (row-major, length rows · cols) into a new buffer.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="data">Row-major host data.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns.</param>
    /// <returns>The new buffer; the caller disposes it.</returns>
    DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Copies host data into an existing buffer of the same length.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="data">Row-major host data.</param>
    /// <param name="destination">The buffer to overwrite; may be a strided view (the data is its block, row-major).</param>
    void Upload<T>(ReadOnlySpan<T> data, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Copies a buffer back to host memory (row-major).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="source">The buffer; may be a strided view (its block is downloaded, row-major).</param>
    /// <param name="destination">Host memory of length <c>source.Length</c>.</param>
    void Download<T>(DeviceBuffer<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>C ← α·op(A)·op(B) + β·C.</summary>
    /// <remarks>This is the GEMM BLAS routine. With β = 0, C is not read (NaN in C does not propagate).</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="transA">Whether op(A) = Aᵀ.</param>
    /// <param name="transB">Whether op(B) = Bᵀ.</param>
    /// <param name="alpha">Scale α of the product.</param>
    /// <param name="a">A; op(A) is m × k. May be a strided view.</param>
    /// <param name="b">B; op(B) is k × n. May be a strided view.</param>
    /// <param name="beta">Scale β of C.</param>
    /// <param name="c">C, m × n; may not alias or overlap A or B. May be a strided view (only its block is written).</param>
    void Gemm<T>(Transpose transA, Transpose transB, T alpha, DeviceBuffer<T> a, DeviceBuffer<T> b, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Symmetric rank-k update C ← α·op(A)·op(A)ᵀ + β·C, with op(A) = A (C = α·AAᵀ + βC) or Aᵀ
    /// (C = α·AᵀA + βC); both triangles of C are written.
    /// </summary>
    /// <remarks>This is the SYRK BLAS routine followed by a copy of the lower triangle to the upper one; with
    /// β ≠ 0 the input C must be symmetric.</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="trans"><see cref="Transpose.None"/> for AAᵀ, <see cref="Transpose.Transpose"/> for AᵀA.</param>
    /// <param name="alpha">Scale α.</param>
    /// <param name="a">A; may be a strided view.</param>
    /// <param name="beta">Scale β.</param>
    /// <param name="c">C, square; may be a strided view (only its block is written).</param>
    void Syrk<T>(Transpose trans, T alpha, DeviceBuffer<T> a, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Factors a symmetric positive definite matrix in place, A = LLᵀ, with the jitter retry of
    /// <see cref="CholeskyOptions"/>. L is written to the lower triangle; the strictly upper triangle is left
    /// as it was.
    /// </summary>
    /// <remarks>This is the POTRF LAPACK routine with a retry: see <see cref="CholeskyOptions"/>.</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">The symmetric matrix (both triangles must hold it); overwritten by L. May be a strided view (factored in place).</param>
    /// <param name="options">Jitter policy; <see langword="null"/> for <see cref="CholeskyOptions.Default"/>.</param>
    /// <param name="cancellationToken">Checked between blocks.</param>
    /// <returns>How many attempts were made and the jitter that succeeded.</returns>
    /// <exception cref="MatrixNotPositiveDefiniteException">Every allowed attempt failed.</exception>
    CholeskyReport CholeskyFactor<T>(DeviceBuffer<T> a, CholeskyOptions? options = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Solves (LLᵀ)X = B in place, given the factor of <see cref="CholeskyFactor{T}"/>.</summary>
    /// <remarks>This is the POTRS LAPACK routine.</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="factor">The n × n factor (lower triangle); may be a strided view.</param>
    /// <param name="b">The n × c right-hand sides, overwritten by X; may be a strided view.</param>
    void CholeskySolve<T>(DeviceBuffer<T> factor, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Solves a batch of small symmetric positive definite systems (P[I_s, I_s] + λI) X_s = B_s at once, one per system s of
    /// <paramref name="systems"/> (orders k_s = |I_s| may differ): each system is gathered from P, factored (Cholesky, no
    /// jitter) and solved for its m_s right-hand sides, which are overwritten by X_s.
    /// </summary>
    /// <remarks>
    /// A batched POTRF + POTRS over many small systems of varying size, with the gather of the submatrices fused in (the row
    /// solves of lin-RFM matrix completion). The CPU backends solve the systems in parallel on the host; the ILGPU backend runs
    /// one device thread per system. The default implementation downloads P and B, solves on the host and uploads X.
    /// </remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="p">P, square, with every index of the batch below its order; may be a strided view. It is taken as symmetric: of each gathered block only P[I_s[r], I_s[c]] with c ≤ r is read.</param>
    /// <param name="ridge">λ, added to the diagonal of every system.</param>
    /// <param name="systems">The layout: the index sets I_s and the counts m_s.</param>
    /// <param name="rightHandSides">The packed blocks B_s (see <see cref="SmallSystemBatch"/>), contiguous, of length <see cref="SmallSystemBatch.RightHandSideLength"/> (any shape); overwritten by X_s.</param>
    /// <exception cref="MatrixNotPositiveDefiniteException">
    /// A system is not positive definite in precision T (or holds NaN/Inf): the lowest such system is named by
    /// <see cref="MatrixNotPositiveDefiniteException.FailedSystem"/> and its pivot by <see cref="MatrixNotPositiveDefiniteException.FailedPivot"/>;
    /// the right-hand sides are then unspecified.
    /// </exception>
    void BatchedRidgeSolve<T>(DeviceBuffer<T> p, T ridge, SmallSystemBatch systems, DeviceBuffer<T> rightHandSides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.CheckBatchedRidgeSolve(p, systems, rightHandSides);
        var host = new T[p.Length];
        Download(p, host);
        var b = new T[rightHandSides.Length];
        Download(rightHandSides, b);
        unsafe
        {
            fixed (T* hp = host)
            {
                SmallSystemBatch.SolveAll(hp, p.Cols, ridge, systems, b);
            }
        }

        Upload<T>(b, rightHandSides);
    }

    /// <summary>Eigendecomposition A = V diag(λ) Vᵀ of a symmetric matrix, eigenvalues ascending.</summary>
    /// <remarks>This is the SYEVD LAPACK routine; use it for matrix powers such as M^{1/2}.</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">The symmetric n × n matrix (not modified); may be a strided view.</param>
    /// <param name="eigenvalues">Destination n × 1 (or 1 × n) for λ, ascending; may be a strided view (a column of a wider matrix).</param>
    /// <param name="eigenvectors">Destination n × n; column j is the eigenvector of λ_j. May be a strided view.</param>
    void SymmetricEigen<T>(DeviceBuffer<T> a, DeviceBuffer<T> eigenvalues, DeviceBuffer<T> eigenvectors)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// The fused kernel matrix K_ij = k(u_ij) for the rows x_i of X and z_j of Z, with u the squared
    /// Mahalanobis distance (radial kernels, from one GEMM plus row norms) or the Mahalanobis inner product
    /// (dot-product kernels, and with the norms x_iᵀMx_i and z_jᵀMz_j for <see cref="KernelGeometry.InnerProductAndNorms"/>
    /// kernels), and optionally the derivative weights W_ij = ∂k/∂u(u_ij) for the AGOP.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <typeparam name="TKernel">The kernel type.</typeparam>
    /// <param name="kernel">The kernel profile.</param>
    /// <param name="x">X, n × d; may be a strided view.</param>
    /// <param name="z">Z, m × d (may be the same buffer as X); may be a strided view.</param>
    /// <param name="metric">M: <see langword="null"/> for the identity, 1 × d (or d × 1) for a diagonal metric, d × d for a full one; may be a strided view.</param>
    /// <param name="result">K, n × m; may be a strided view (only its block is written).</param>
    /// <param name="derivativeWeights">Optional n × m destination for ∂k/∂u; for radial kernels not differentiable at 0, 0 on zero-distance pairs.
    /// For a kernel of the <see cref="KernelGeometry.InnerProductAndNorms"/> geometry (an <see cref="INormDependentKernel"/>, whose
    /// u is xᵀMz and which also depends on a = xᵀMx and b = zᵀMz) it is n × 2m: ∂κ/∂u in columns 0 … m − 1 and ∂κ/∂a in
    /// columns m … 2m − 1 (<see cref="KernelFunctionExtensions.DerivativeWeightColumns"/> gives the width). May be a strided view.</param>
    void KernelMatrix<T, TKernel>(in TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> result, DeviceBuffer<T>? derivativeWeights = null)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction;

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/>: same length when both are contiguous (a reshaping
    /// copy), same shape when either is a strided view.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="source">Source buffer; may be a strided view.</param>
    /// <param name="destination">Destination buffer; may be a strided view (only its block is written); must not overlap the source.</param>
    void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Converts <paramref name="source"/> into <paramref name="destination"/> of the other precision (double to single rounds to
    /// nearest; single to double is exact). Same shape; either may be a strided view. With the same element type this is
    /// <see cref="Copy{T}"/>.
    /// </summary>
    /// <typeparam name="TSource"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <typeparam name="TDestination"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="source">Source buffer.</param>
    /// <param name="destination">Destination buffer of the same shape.</param>
    void Convert<TSource, TDestination>(DeviceBuffer<TSource> source, DeviceBuffer<TDestination> destination)
        where TSource : unmanaged, IFloatingPointIeee754<TSource>
        where TDestination : unmanaged, IFloatingPointIeee754<TDestination>;

    /// <summary>X ← α·X; with α = 0, X ← 0 exactly (NaN or ∞ already in X do not propagate, as with GEMM's β = 0).</summary>
    /// <remarks>This is the SCAL BLAS routine. Use α = 0 to clear a buffer: <see cref="Allocate{T}"/> does not initialize memory.</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="alpha">Scale.</param>
    /// <param name="x">Buffer to scale; may be a strided view.</param>
    void Scale<T>(T alpha, DeviceBuffer<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Y ← α·X + Y (same shapes).</summary>
    /// <remarks>This is the AXPY BLAS routine.</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="alpha">Scale of X.</param>
    /// <param name="x">X; may be a strided view.</param>
    /// <param name="y">Y, updated; may be a strided view.</param>
    void Axpy<T>(T alpha, DeviceBuffer<T> x, DeviceBuffer<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A_ii ← A_ii + value for a square A.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">Square buffer; may be a strided view.</param>
    /// <param name="value">Value added to the diagonal.</param>
    void AddDiagonal<T>(DeviceBuffer<T> a, T value)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>C ← A ∘ B, the elementwise (Hadamard) product; C may alias A or B.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">A; may be a strided view.</param>
    /// <param name="b">B, same shape; may be a strided view.</param>
    /// <param name="c">C, same shape; may be a strided view.</param>
    void Hadamard<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A_ij ← A_ij · v_j: scales the columns of A (a diagonal metric applied to row-vectors).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">A, n × d; may be a strided view.</param>
    /// <param name="v">v, 1 × d or d × 1; may be a strided view (a column of a wider matrix).</param>
    void ScaleColumns<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A_ij ← v_i · A_ij: scales the rows of A (diag(v)·A).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">A, n × d; may be a strided view.</param>
    /// <param name="v">v, n × 1 or 1 × n; may be a strided view (a column of a wider matrix).</param>
    void ScaleRows<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// The row-wise Kronecker product: row i of R is vec(a_i ⊗ b_i), R[i, k·d + j] = A_ik·B_ij for A (n × c), B (n × d)
    /// and R (n × c·d). It batches per-output work into one GEMM (the AGOP's direct form for all outputs at once).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">A, n × c; may be a strided view.</param>
    /// <param name="b">B, n × d; may be a strided view.</param>
    /// <param name="result">R, n × (c·d); may be a strided view.</param>
    void RowKronecker<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Gathers columns: D[i, t] ← A[i, columns[t]] for every row i of A and every position t of <paramref name="columns"/>
    /// (an index may repeat). It lets sparse inputs run through GEMMs: the AGOP's sparse direct form gathers, for each input
    /// column, the derivative weights of the centres where that column is non-zero and multiplies the gathered block.
    /// </summary>
    /// <remarks>The default implementation downloads A, gathers on the host and uploads D; the CPU and ILGPU backends gather
    /// where A lives.</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="source">A, n × m; may be a strided view.</param>
    /// <param name="columns">The column indices, each in [0, m).</param>
    /// <param name="destination">D, n × <c>columns.Length</c>; may be a strided view; must not overlap A.</param>
    void GatherColumns<T>(DeviceBuffer<T> source, ReadOnlySpan<int> columns, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.CheckGatherColumns(source, columns, destination);
        var host = new T[source.Length];
        Download(source, host);
        var gathered = new T[destination.Length];
        int width = columns.Length;
        for (int i = 0; i < source.Rows; i++)
        {
            for (int t = 0; t < width; t++)
            {
                gathered[(i * width) + t] = host[(i * source.Cols) + columns[t]];
            }
        }

        Upload<T>(gathered, destination);
    }

    /// <summary>
    /// Sums of equal blocks: R[I, J] ← scale · Σ_{r &lt; rowGroup} Σ_{s &lt; colGroup} A[I·rowGroup + r, J·colGroup + s], for
    /// A of (R.Rows·rowGroup) × (R.Cols·colGroup). It turns a kernel matrix between all patches of two image sets into the
    /// all-pairs convolutional kernel between the images.
    /// </summary>
    /// <remarks>The default implementation downloads A, sums on the host and uploads R; the CPU and ILGPU backends sum where A lives.</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">A; may be a strided view.</param>
    /// <param name="rowGroup">Rows per block (≥ 1).</param>
    /// <param name="colGroup">Columns per block (≥ 1).</param>
    /// <param name="scale">The factor applied to every sum.</param>
    /// <param name="result">R; may be a strided view.</param>
    void BlockSum<T>(DeviceBuffer<T> a, int rowGroup, int colGroup, T scale, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.CheckBlockSum(a, rowGroup, colGroup, result);
        var host = new T[a.Length];
        Download(a, host);
        var sums = new T[result.Length];
        for (int i = 0; i < result.Rows; i++)
        {
            Shapes.BlockSumRow<T>(host, a.Cols, i, rowGroup, colGroup, scale, sums.AsSpan(i * result.Cols, result.Cols));
        }

        Upload<T>(sums, result);
    }

    /// <summary>r_i ← Σ_j A_ij B_ij, the row-wise dot products (r is n × 1).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">A, n × d; may be a strided view.</param>
    /// <param name="b">B, n × d; may be a strided view.</param>
    /// <param name="result">r, n × 1 (or 1 × n); may be a strided view (a column of a wider matrix).</param>
    void RowDot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Σ_ij A_ij B_ij (the Frobenius inner product), accumulated in double precision.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">A; may be a strided view.</param>
    /// <param name="b">B, same shape; may be a strided view.</param>
    /// <returns>The inner product.</returns>
    double Dot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Y ← φ(X), φ′(X) or φ″(X) elementwise for a network activation φ (<paramref name="derivativeOrder"/> 0, 1 or 2);
    /// Y may be X (in place). At the kink of ReLU and leaky ReLU φ′ takes the left value and φ″ is 0 (see
    /// <see cref="Networks.Activation"/>).
    /// </summary>
    /// <remarks>The default implementation downloads X, evaluates the double-precision scalars of
    /// <see cref="Networks.Activation"/> on the host and uploads Y; the CPU backends do the same in place (double-accurate,
    /// rounded to T), the ILGPU backend evaluates on the device (in double precision; erf, and so GELU, by a series accurate
    /// to about 1e-14 absolute).</remarks>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="activation">The activation φ.</param>
    /// <param name="derivativeOrder">0 for φ, 1 for φ′, 2 for φ″.</param>
    /// <param name="input">X; may be a strided view.</param>
    /// <param name="output">Y, the same shape as X; may be X, and may be a strided view.</param>
    void ApplyActivation<T>(Networks.Activation activation, int derivativeOrder, DeviceBuffer<T> input, DeviceBuffer<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationOperands.Check(activation, derivativeOrder, input, output);
        var host = new T[input.Length];
        Download(input, host);
        ActivationOperands.Apply<T>(activation, derivativeOrder, host, host);
        Upload<T>(host, output);
    }
}
