using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.Backends.Native;

/// <summary>
/// The native CPU backend: GEMM, SYRK and TRSM through CBLAS, Cholesky and the symmetric eigendecomposition through the
/// Fortran LAPACK symbols (<c>?potrf_</c>, <c>?syevd_</c>), from MKL (<c>mkl_rt</c>) or OpenBLAS found at run time. Buffers,
/// the elementwise operations, the kernel profiles and the jitter retry are those of <see cref="CpuBackend"/>.
/// </summary>
/// <remarks>
/// Row-major storage maps onto the column-major Fortran routines without copies: a row-major symmetric matrix is its own
/// column-major transpose, so the lower triangle in row-major is LAPACK's 'U' triangle. Select it with
/// <c>FEATURELEARNING_BACKEND=native</c> or <c>ComputeBackends.Create("native")</c>.
/// </remarks>
public sealed unsafe class NativeBackend : CpuBackend
{
    private static readonly int[] SolveOrder = [BlasLibrary.NoTrans, BlasLibrary.Trans];
    private readonly BlasLibrary library;

    /// <summary>Creates the backend with the default library search; throws if no library is found.</summary>
    /// <exception cref="InvalidOperationException">No usable BLAS/LAPACK library; the message lists every candidate and why it
    /// failed. Also when <c>FEATURELEARNING_BLAS</c> names a library that cannot be used (no fallback to probing).</exception>
    public NativeBackend()
        : this(new NativeBackendOptions())
    {
    }

    /// <summary>Creates the backend.</summary>
    /// <param name="options">Library, threads and kernel selection.</param>
    /// <exception cref="InvalidOperationException">No usable BLAS/LAPACK library; the message lists every candidate and why it
    /// failed. Also when <c>FEATURELEARNING_BLAS</c> names a library that cannot be used (no fallback to probing).</exception>
    public NativeBackend(NativeBackendOptions options)
        : this(options ?? throw new ArgumentNullException(nameof(options)), Load(options))
    {
    }

    private NativeBackend(NativeBackendOptions options, BlasLibrary library)
        : base(options.Threads, options.BufferPoolBytes)
    {
        this.library = library;
        library.SetThreads(Threads);
    }

    /// <summary>The library that was loaded (the name it was loaded by).</summary>
    public string LibraryName => library.Name;

    /// <summary>The vendor of the loaded library.</summary>
    public BlasVendor Vendor => library.Vendor;

    /// <summary>
    /// The library's own description of itself: <c>openblas_get_config</c> and the core name for OpenBLAS,
    /// <c>MKL_Get_Version_String</c> for MKL (with the threading layer the backend chose).
    /// </summary>
    public string LibraryVersion => library.Describe() + (library.MklThreading is { } threading ? $", threading {threading}" : string.Empty);

    /// <inheritdoc />
    public override string Name => "native";

    /// <summary>Tries to create the backend.</summary>
    /// <param name="options">Options; null for the defaults.</param>
    /// <param name="backend">The backend, or null.</param>
    /// <param name="reasons">Why each candidate library was rejected (empty on a first-candidate success).</param>
    /// <returns>Whether a library was found.</returns>
    /// <exception cref="InvalidOperationException"><c>FEATURELEARNING_BLAS</c> names a library that cannot be used (the
    /// message names the variable, its value and why loading failed): a misconfiguration is not "nothing found".</exception>
    public static bool TryCreate(NativeBackendOptions? options, out NativeBackend? backend, out IReadOnlyList<string> reasons)
    {
        options ??= new NativeBackendOptions();
        var list = new List<string>();
        var library = BlasLibrary.TryLoad(options, list, Environment.GetEnvironmentVariable(BlasLibrary.EnvironmentVariable));
        reasons = list;
        backend = library is null ? null : new NativeBackend(options, library);
        return backend is not null;
    }

    private static BlasLibrary Load(NativeBackendOptions options)
    {
        var reasons = new List<string>();
        return BlasLibrary.TryLoad(options, reasons, Environment.GetEnvironmentVariable(BlasLibrary.EnvironmentVariable))
            ?? throw new InvalidOperationException(
                "No BLAS/LAPACK library exporting CBLAS and the Fortran LAPACK symbols was found. Tried: " + string.Join("; ", reasons) +
                ". Install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread) or MKL (Debian: libmkl-rt from non-free), or give a path in NativeBackendOptions.LibraryPath or FEATURELEARNING_BLAS.");
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"native backend: {library.Vendor} ({library.Name}: {LibraryVersion}), {Threads} thread(s)" +
        (library.CoreTypeSetByUs ? ", OPENBLAS_CORETYPE=SKYLAKEX set by FeatureLearning (AVX-512 CPU)" : string.Empty) +
        $", buffer pool {PoolDescription}, kernel epilogue in C# SIMD, precision single and double";

    /// <inheritdoc />
    protected override bool KernelGemmPerRowBlock => false;

    /// <inheritdoc />
    protected override void GemmCore<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc, int threads)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        int ta = transA ? BlasLibrary.Trans : BlasLibrary.NoTrans, tb = transB ? BlasLibrary.Trans : BlasLibrary.NoTrans;
        lda = Math.Max(lda, 1);
        ldb = Math.Max(ldb, 1);
        if (typeof(T) == typeof(double))
        {
            library.Dgemm(BlasLibrary.RowMajor, ta, tb, m, n, k, double.CreateTruncating(alpha), (double*)a, lda, (double*)b, ldb, double.CreateTruncating(beta), (double*)c, ldc);
        }
        else
        {
            library.Sgemm(BlasLibrary.RowMajor, ta, tb, m, n, k, float.CreateTruncating(alpha), (float*)a, lda, (float*)b, ldb, float.CreateTruncating(beta), (float*)c, ldc);
        }
    }

    /// <inheritdoc />
    protected override void SyrkLowerCore<T>(bool trans, int n, int k, T alpha, T* a, int lda, T beta, T* c, int ldc)
    {
        if (n == 0)
        {
            return;
        }

        int t = trans ? BlasLibrary.Trans : BlasLibrary.NoTrans;
        lda = Math.Max(lda, 1);
        if (typeof(T) == typeof(double))
        {
            library.Dsyrk(BlasLibrary.RowMajor, BlasLibrary.Lower, t, n, k, double.CreateTruncating(alpha), (double*)a, lda, double.CreateTruncating(beta), (double*)c, ldc);
        }
        else
        {
            library.Ssyrk(BlasLibrary.RowMajor, BlasLibrary.Lower, t, n, k, float.CreateTruncating(alpha), (float*)a, lda, float.CreateTruncating(beta), (float*)c, ldc);
        }
    }

    /// <inheritdoc />
    protected override int CholeskyFactorCore<T>(T* a, int n, int lda, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        byte uplo = (byte)'U'; // row-major lower = column-major upper
        int info = 0;
        if (typeof(T) == typeof(double))
        {
            library.Dpotrf(&uplo, &n, (double*)a, &lda, &info, 1);
        }
        else
        {
            library.Spotrf(&uplo, &n, (float*)a, &lda, &info, 1);
        }

        if (info < 0)
        {
            throw new InvalidOperationException($"LAPACK ?potrf rejected argument {-info}: this is a bug in FeatureLearning.");
        }

        if (info > 0)
        {
            return info - 1;
        }

        // OpenBLAS's ?potrf tests pivots with "<= 0", which NaN passes: a NaN in A then comes back as info = 0 with NaN in
        // L. NaN propagates down the diagonal, so scanning it finds the first bad pivot.
        for (int i = 0; i < n; i++)
        {
            if (!T.IsFinite(a[((long)i * lda) + i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <inheritdoc />
    protected override void CholeskySolveCore<T>(T* l, int n, int ldl, T* b, int c, int ldb)
    {
        // L Y = B, then Lᵀ X = Y, both with CBLAS row-major TRSM on the lower triangle.
        foreach (int trans in SolveOrder)
        {
            Trsm(l, n, ldl, b, c, ldb, trans);
        }
    }

    /// <inheritdoc />
    protected override void TriangularSolveCore<T>(T* l, int n, int ldl, T* b, int c, int ldb, bool transpose)
        => Trsm(l, n, ldl, b, c, ldb, transpose ? BlasLibrary.Trans : BlasLibrary.NoTrans);

    private void Trsm<T>(T* l, int n, int ldl, T* b, int c, int ldb, int trans)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            library.Dtrsm(BlasLibrary.RowMajor, BlasLibrary.Left, BlasLibrary.Lower, trans, BlasLibrary.NonUnit, n, c, 1.0, (double*)l, ldl, (double*)b, ldb);
        }
        else
        {
            library.Strsm(BlasLibrary.RowMajor, BlasLibrary.Left, BlasLibrary.Lower, trans, BlasLibrary.NonUnit, n, c, 1f, (float*)l, ldl, (float*)b, ldb);
        }
    }

    /// <inheritdoc />
    /// <remarks>LAPACK ?syevd (divide and conquer), eigenvalues ascending.</remarks>
    public override void SymmetricEigen<T>(DeviceBuffer<T> a, DeviceBuffer<T> eigenvalues, DeviceBuffer<T> eigenvectors)
    {
        (_, _, _) = (Own(a, nameof(a)), Own(eigenvalues, nameof(eigenvalues)), Own(eigenvectors, nameof(eigenvectors)));
        Shapes.CheckEigen(a, eigenvalues, eigenvectors);
        int n = a.Rows;
        if (n == 0)
        {
            return;
        }

        // Work on a host copy (syevd overwrites its input with the eigenvectors, column-major); any argument may be a
        // strided view: the download and the uploads walk it row by row.
        var work = new T[n * n];
        Download(a, work);
        var values = new T[n];
        byte jobz = (byte)'V', uplo = (byte)'U';
        int info = 0, lwork = -1, liwork = -1, iworkQuery = 0;
        T workQuery = T.Zero;
        fixed (T* pa = work)
        fixed (T* pv = values)
        {
            Syevd(&jobz, &uplo, &n, pa, pv, &workQuery, &lwork, &iworkQuery, &liwork, &info);
            lwork = Math.Max(1, int.CreateTruncating(workQuery));
            liwork = Math.Max(1, iworkQuery);
            var scratch = new T[lwork];
            var iscratch = new int[liwork];
            fixed (T* pw = scratch)
            fixed (int* piw = iscratch)
            {
                Syevd(&jobz, &uplo, &n, pa, pv, pw, &lwork, piw, &liwork, &info);
            }
        }

        if (info != 0)
        {
            throw new ArithmeticException($"LAPACK ?syevd failed with info = {info} (non-finite input, or the algorithm did not converge).");
        }

        // Column-major V (column j = eigenvector j) is row-major Vᵀ: transpose into the row-major convention.
        var vectors = new T[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                vectors[(i * n) + j] = work[(j * n) + i];
            }
        }

        Upload<T>(values, eigenvalues);
        Upload<T>(vectors, eigenvectors);
    }

    private void Syevd<T>(byte* jobz, byte* uplo, int* n, T* a, T* w, T* work, int* lwork, int* iwork, int* liwork, int* info)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            library.Dsyevd(jobz, uplo, n, (double*)a, n, (double*)w, (double*)work, lwork, iwork, liwork, info, 1, 1);
        }
        else
        {
            library.Ssyevd(jobz, uplo, n, (float*)a, n, (float*)w, (float*)work, lwork, iwork, liwork, info, 1, 1);
        }
    }
}
