using System.Runtime.InteropServices;

namespace FeatureLearning.Backends.Ilgpu.Cuda;

/// <summary>
/// cuBLAS and cuSOLVER (dense), loaded at run time through their stable C ABI (the <c>_v2</c> BLAS entry points and
/// <c>cusolverDn?potrf</c>), whichever CUDA major version is installed (13, 12 or 11). Calls run on the ILGPU
/// accelerator's stream, on the device pointers of its buffers.
/// </summary>
/// <remarks>
/// ILGPU.Algorithms 1.5.3 ships a cuBLAS wrapper, but it binds <c>libcublas.so.10</c>–<c>.12</c> only, so it cannot
/// load on a CUDA 13 installation; binding the handful of entry points directly keeps the backend working across
/// CUDA versions. Matrices are row-major: a row-major matrix is its transpose in cuBLAS's column-major view.
/// </remarks>
internal sealed unsafe class CudaLibraries : IDisposable
{
    // cublasOperation_t, cublasFillMode_t, cublasSideMode_t, cublasDiagType_t
    public const int OpN = 0, OpT = 1, FillLower = 0, FillUpper = 1, SideLeft = 0, SideRight = 1, DiagNonUnit = 0;

    private static readonly string[] CublasNames = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so", "cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"];
    private static readonly string[] CusolverNames = ["libcusolver.so.12", "libcusolver.so.11", "libcusolver.so", "cusolver64_12.dll", "cusolver64_11.dll"];

    private readonly nint cublasLibrary;
    private readonly nint cusolverLibrary;
    private readonly nint blas;
    private readonly nint solver;

    private readonly delegate* unmanaged<nint, int> cublasDestroy;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, double*, double*, int, double*, int, double*, double*, int, int> dgemm;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, float*, float*, int, float*, int, float*, float*, int, int> sgemm;
    private readonly delegate* unmanaged<nint, int, int, int, int, double*, double*, int, double*, double*, int, int> dsyrk;
    private readonly delegate* unmanaged<nint, int, int, int, int, float*, float*, int, float*, float*, int, int> ssyrk;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, int, double*, double*, int, double*, int, int> dtrsm;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, int, float*, float*, int, float*, int, int> strsm;
    private readonly delegate* unmanaged<nint, int> cusolverDestroy;
    private readonly delegate* unmanaged<nint, int, int, double*, int, int*, int> dpotrfBufferSize;
    private readonly delegate* unmanaged<nint, int, int, float*, int, int*, int> spotrfBufferSize;
    private readonly delegate* unmanaged<nint, int, int, double*, int, double*, int, int*, int> dpotrf;
    private readonly delegate* unmanaged<nint, int, int, float*, int, float*, int, int*, int> spotrf;

    private CudaLibraries(nint cublasLibrary, nint cusolverLibrary, nint stream, string cublasName, string cusolverName)
    {
        this.cublasLibrary = cublasLibrary;
        this.cusolverLibrary = cusolverLibrary;
        CublasName = cublasName;
        CusolverName = cusolverName;
        var create = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(cublasLibrary, "cublasCreate_v2");
        var setStream = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(cublasLibrary, "cublasSetStream_v2");
        cublasDestroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(cublasLibrary, "cublasDestroy_v2");
        dgemm = (delegate* unmanaged<nint, int, int, int, int, int, double*, double*, int, double*, int, double*, double*, int, int>)NativeLibrary.GetExport(cublasLibrary, "cublasDgemm_v2");
        sgemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, float*, int, float*, int, float*, float*, int, int>)NativeLibrary.GetExport(cublasLibrary, "cublasSgemm_v2");
        dsyrk = (delegate* unmanaged<nint, int, int, int, int, double*, double*, int, double*, double*, int, int>)NativeLibrary.GetExport(cublasLibrary, "cublasDsyrk_v2");
        ssyrk = (delegate* unmanaged<nint, int, int, int, int, float*, float*, int, float*, float*, int, int>)NativeLibrary.GetExport(cublasLibrary, "cublasSsyrk_v2");
        dtrsm = (delegate* unmanaged<nint, int, int, int, int, int, int, double*, double*, int, double*, int, int>)NativeLibrary.GetExport(cublasLibrary, "cublasDtrsm_v2");
        strsm = (delegate* unmanaged<nint, int, int, int, int, int, int, float*, float*, int, float*, int, int>)NativeLibrary.GetExport(cublasLibrary, "cublasStrsm_v2");
        var solverCreate = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(cusolverLibrary, "cusolverDnCreate");
        var solverSetStream = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(cusolverLibrary, "cusolverDnSetStream");
        cusolverDestroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(cusolverLibrary, "cusolverDnDestroy");
        dpotrfBufferSize = (delegate* unmanaged<nint, int, int, double*, int, int*, int>)NativeLibrary.GetExport(cusolverLibrary, "cusolverDnDpotrf_bufferSize");
        spotrfBufferSize = (delegate* unmanaged<nint, int, int, float*, int, int*, int>)NativeLibrary.GetExport(cusolverLibrary, "cusolverDnSpotrf_bufferSize");
        dpotrf = (delegate* unmanaged<nint, int, int, double*, int, double*, int, int*, int>)NativeLibrary.GetExport(cusolverLibrary, "cusolverDnDpotrf");
        spotrf = (delegate* unmanaged<nint, int, int, float*, int, float*, int, int*, int>)NativeLibrary.GetExport(cusolverLibrary, "cusolverDnSpotrf");

        nint handle;
        Check(create(&handle), "cublasCreate");
        blas = handle;
        Check(setStream(blas, stream), "cublasSetStream");
        nint solverHandle;
        Check(solverCreate(&solverHandle), "cusolverDnCreate");
        solver = solverHandle;
        Check(solverSetStream(solver, stream), "cusolverDnSetStream");
    }

    /// <summary>The cuBLAS library file that was loaded.</summary>
    public string CublasName { get; }

    /// <summary>The cuSOLVER library file that was loaded.</summary>
    public string CusolverName { get; }

    /// <summary>Loads cuBLAS and cuSOLVER and creates their handles on <paramref name="stream"/> (the current CUDA context must be the accelerator's).</summary>
    /// <param name="directory">A directory to look in first, or null.</param>
    /// <param name="stream">The CUDA stream.</param>
    /// <param name="libraries">The loaded libraries.</param>
    /// <param name="reason">Why they could not be loaded.</param>
    /// <returns>Whether both were loaded.</returns>
    public static bool TryLoad(string? directory, nint stream, out CudaLibraries? libraries, out string reason)
    {
        libraries = null;
        if (!TryLoadAny(directory, CublasNames, out nint cublas, out string cublasName))
        {
            reason = $"cuBLAS not found (tried {string.Join(", ", CublasNames)})";
            return false;
        }

        if (!TryLoadAny(directory, CusolverNames, out nint cusolver, out string cusolverName))
        {
            NativeLibrary.Free(cublas);
            reason = $"cuSOLVER not found (tried {string.Join(", ", CusolverNames)})";
            return false;
        }

        try
        {
            libraries = new CudaLibraries(cublas, cusolver, stream, cublasName, cusolverName);
            reason = string.Empty;
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or InvalidOperationException)
        {
            NativeLibrary.Free(cublas);
            NativeLibrary.Free(cusolver);
            reason = $"{cublasName}/{cusolverName} could not be initialized: {e.Message}";
            return false;
        }
    }

    private static bool TryLoadAny(string? directory, string[] names, out nint handle, out string loaded)
    {
        var directories = new List<string?>();
        if (directory is not null)
        {
            directories.Add(directory);
        }

        directories.Add(null); // the loader's own search path (LD_LIBRARY_PATH, ld.so.cache)
        string? cudaPath = Environment.GetEnvironmentVariable("CUDA_PATH") ?? Environment.GetEnvironmentVariable("CUDA_HOME");
        foreach (string? root in new[] { cudaPath, "/usr/local/cuda" })
        {
            if (!string.IsNullOrEmpty(root))
            {
                directories.Add(Path.Combine(root, "lib64"));
                directories.Add(Path.Combine(root, "lib"));
            }
        }

        foreach (string? dir in directories)
        {
            foreach (string name in names)
            {
                string path = dir is null ? name : Path.Combine(dir, name);
                if ((dir is null || File.Exists(path)) && NativeLibrary.TryLoad(path, out handle))
                {
                    loaded = path;
                    return true;
                }
            }
        }

        handle = 0;
        loaded = string.Empty;
        return false;
    }

    /// <summary>Row-major C = α·op(A)·op(B) + β·C on device pointers.</summary>
    public void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, nint a, int lda, nint b, int ldb, T beta, nint c, int ldc)
        where T : unmanaged
    {
        // Row-major C (m × n) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands.
        int opA = transB ? OpT : OpN, opB = transA ? OpT : OpN;
        if (typeof(T) == typeof(double))
        {
            double al = (double)(object)alpha, be = (double)(object)beta;
            Check(dgemm(blas, opA, opB, n, m, k, &al, (double*)b, ldb, (double*)a, lda, &be, (double*)c, ldc), "cublasDgemm");
        }
        else
        {
            float al = (float)(object)alpha, be = (float)(object)beta;
            Check(sgemm(blas, opA, opB, n, m, k, &al, (float*)b, ldb, (float*)a, lda, &be, (float*)c, ldc), "cublasSgemm");
        }
    }

    /// <summary>The lower triangle of row-major C = α·op(A)·op(A)ᵀ + β·C (op(A) = Aᵀ when <paramref name="trans"/>).</summary>
    public void SyrkLower<T>(bool trans, int n, int k, T alpha, nint a, int lda, T beta, nint c, int ldc)
        where T : unmanaged
    {
        // Row-major lower = column-major upper; the stored A is Aᵀ in column-major, so AAᵀ is cuBLAS's 'T' form.
        int op = trans ? OpN : OpT;
        if (typeof(T) == typeof(double))
        {
            double al = (double)(object)alpha, be = (double)(object)beta;
            Check(dsyrk(blas, FillUpper, op, n, k, &al, (double*)a, lda, &be, (double*)c, ldc), "cublasDsyrk");
        }
        else
        {
            float al = (float)(object)alpha, be = (float)(object)beta;
            Check(ssyrk(blas, FillUpper, op, n, k, &al, (float*)a, lda, &be, (float*)c, ldc), "cublasSsyrk");
        }
    }

    /// <summary>Factors row-major A = LLᵀ in place (LAPACK 'U' on the column-major view); info is a device int.</summary>
    public void Potrf<T>(int n, nint a, int lda, nint workspace, int workspaceElements, nint info)
        where T : unmanaged
    {
        if (typeof(T) == typeof(double))
        {
            Check(dpotrf(solver, FillUpper, n, (double*)a, lda, (double*)workspace, workspaceElements, (int*)info), "cusolverDnDpotrf");
        }
        else
        {
            Check(spotrf(solver, FillUpper, n, (float*)a, lda, (float*)workspace, workspaceElements, (int*)info), "cusolverDnSpotrf");
        }
    }

    /// <summary>The workspace (in elements) <see cref="Potrf{T}"/> needs for order <paramref name="n"/>.</summary>
    public int PotrfWorkspace<T>(int n, nint a, int lda)
        where T : unmanaged
    {
        int lwork;
        if (typeof(T) == typeof(double))
        {
            Check(dpotrfBufferSize(solver, FillUpper, n, (double*)a, lda, &lwork), "cusolverDnDpotrf_bufferSize");
        }
        else
        {
            Check(spotrfBufferSize(solver, FillUpper, n, (float*)a, lda, &lwork), "cusolverDnSpotrf_bufferSize");
        }

        return lwork;
    }

    /// <summary>Solves (LLᵀ)X = B for row-major L (n × n) and B (n × c) with two triangular solves.</summary>
    public void CholeskySolve<T>(int n, int c, nint l, int ldl, nint b, int ldb)
        where T : unmanaged
    {
        // Column-major view: Bᶜ = Bᵀ (c × n), Fᶜ = Lᵀ (upper). L·Y = B ⇔ Yᶜ·Fᶜ = Bᶜ; Lᵀ·X = Y ⇔ Xᶜ·Fᶜᵀ = Yᶜ.
        if (typeof(T) == typeof(double))
        {
            double one = 1;
            Check(dtrsm(blas, SideRight, FillUpper, OpN, DiagNonUnit, c, n, &one, (double*)l, ldl, (double*)b, ldb), "cublasDtrsm");
            Check(dtrsm(blas, SideRight, FillUpper, OpT, DiagNonUnit, c, n, &one, (double*)l, ldl, (double*)b, ldb), "cublasDtrsm");
        }
        else
        {
            float one = 1;
            Check(strsm(blas, SideRight, FillUpper, OpN, DiagNonUnit, c, n, &one, (float*)l, ldl, (float*)b, ldb), "cublasStrsm");
            Check(strsm(blas, SideRight, FillUpper, OpT, DiagNonUnit, c, n, &one, (float*)l, ldl, (float*)b, ldb), "cublasStrsm");
        }
    }

    public void Dispose()
    {
        _ = cublasDestroy(blas);
        _ = cusolverDestroy(solver);
    }

    private static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new InvalidOperationException($"{call} failed with status {status}.");
        }
    }
}
