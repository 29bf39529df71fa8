using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace FeatureLearning.Backends.Native;

/// <summary>
/// A loaded BLAS/LAPACK library and the entry points the backend calls, as unmanaged function pointers (no
/// marshalling, no C shim): CBLAS level 3 and the Fortran LAPACK symbols, which MKL's <c>mkl_rt</c> and OpenBLAS both
/// export.
/// </summary>
internal sealed unsafe class BlasLibrary
{
    internal const int RowMajor = 101, NoTrans = 111, Trans = 112, Upper = 121, Lower = 122, NonUnit = 131, Left = 141;

    private static readonly string[] MklNames = ["mkl_rt.2.dll", "libmkl_rt.so.2", "libmkl_rt.so", "libmkl_rt.dylib"];
    private static readonly string[] OpenBlasNames = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dll", "libopenblas.dylib"];
    private static readonly string[] RequiredSymbols = ["cblas_dgemm", "cblas_sgemm", "cblas_dsyrk", "cblas_ssyrk", "cblas_dtrsm", "cblas_strsm", "dpotrf_", "spotrf_", "dsyevd_", "ssyevd_"];

    private BlasLibrary(nint handle, string name, BlasVendor vendor)
    {
        Handle = handle;
        Name = name;
        Vendor = vendor;
        Dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)Export("cblas_dgemm");
        Sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)Export("cblas_sgemm");
        Dsyrk = (delegate* unmanaged<int, int, int, int, int, double, double*, int, double, double*, int, void>)Export("cblas_dsyrk");
        Ssyrk = (delegate* unmanaged<int, int, int, int, int, float, float*, int, float, float*, int, void>)Export("cblas_ssyrk");
        Dtrsm = (delegate* unmanaged<int, int, int, int, int, int, int, double, double*, int, double*, int, void>)Export("cblas_dtrsm");
        Strsm = (delegate* unmanaged<int, int, int, int, int, int, int, float, float*, int, float*, int, void>)Export("cblas_strsm");
        Dpotrf = (delegate* unmanaged<byte*, int*, double*, int*, int*, nuint, void>)Export("dpotrf_");
        Spotrf = (delegate* unmanaged<byte*, int*, float*, int*, int*, nuint, void>)Export("spotrf_");
        Dsyevd = (delegate* unmanaged<byte*, byte*, int*, double*, int*, double*, double*, int*, int*, int*, int*, nuint, nuint, void>)Export("dsyevd_");
        Ssyevd = (delegate* unmanaged<byte*, byte*, int*, float*, int*, float*, float*, int*, int*, int*, int*, nuint, nuint, void>)Export("ssyevd_");
    }

    public nint Handle { get; }

    public string Name { get; }

    public BlasVendor Vendor { get; }

    public delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> Dgemm { get; }

    public delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm { get; }

    public delegate* unmanaged<int, int, int, int, int, double, double*, int, double, double*, int, void> Dsyrk { get; }

    public delegate* unmanaged<int, int, int, int, int, float, float*, int, float, float*, int, void> Ssyrk { get; }

    public delegate* unmanaged<int, int, int, int, int, int, int, double, double*, int, double*, int, void> Dtrsm { get; }

    public delegate* unmanaged<int, int, int, int, int, int, int, float, float*, int, float*, int, void> Strsm { get; }

    /// <summary>dpotrf_(uplo, n, a, lda, info, hidden length of uplo).</summary>
    public delegate* unmanaged<byte*, int*, double*, int*, int*, nuint, void> Dpotrf { get; }

    public delegate* unmanaged<byte*, int*, float*, int*, int*, nuint, void> Spotrf { get; }

    /// <summary>dsyevd_(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info, hidden lengths).</summary>
    public delegate* unmanaged<byte*, byte*, int*, double*, int*, double*, double*, int*, int*, int*, int*, nuint, nuint, void> Dsyevd { get; }

    public delegate* unmanaged<byte*, byte*, int*, float*, int*, float*, float*, int*, int*, int*, int*, nuint, nuint, void> Ssyevd { get; }

    /// <summary>Whether this process set <c>OPENBLAS_CORETYPE</c> before loading the library.</summary>
    public bool CoreTypeSetByUs { get; private set; }

    /// <summary>Probes the candidates in order and returns the first library that exports every entry point.</summary>
    public static BlasLibrary? TryLoad(NativeBackendOptions options, List<string> reasons)
    {
        bool coreTypeSet = false;
        foreach (var (name, vendor) in Candidates(options))
        {
            if (vendor == BlasVendor.OpenBlas && !coreTypeSet && options.SelectAvx512Kernels)
            {
                coreTypeSet = SetOpenBlasCoreType(reasons);
            }

            if (!NativeLibrary.TryLoad(name, typeof(BlasLibrary).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out nint handle)
                && !NativeLibrary.TryLoad(name, out handle))
            {
                reasons.Add($"{name}: not found or not loadable");
                continue;
            }

            var missing = RequiredSymbols.Where(symbol => !NativeLibrary.TryGetExport(handle, symbol, out _)).ToList();
            if (missing.Count > 0)
            {
                reasons.Add($"{name}: loaded but lacks {string.Join(", ", missing)}");
                NativeLibrary.Free(handle);
                continue;
            }

            var detected = vendor == BlasVendor.Other ? Detect(handle) : vendor;
            var library = new BlasLibrary(handle, name, detected) { CoreTypeSetByUs = coreTypeSet };
            if (detected == BlasVendor.Mkl)
            {
                library.UseGnuThreadingLayer();
            }

            return library;
        }

        return null;
    }

    private static IEnumerable<(string Name, BlasVendor Vendor)> Candidates(NativeBackendOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.LibraryPath))
        {
            yield return (options.LibraryPath, BlasVendor.Other);
            yield break;
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable("FEATURELEARNING_BLAS");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            yield return (fromEnvironment, BlasVendor.Other);
        }

        foreach (string name in MklNames)
        {
            yield return (name, BlasVendor.Mkl);
        }

        foreach (string name in OpenBlasNames)
        {
            yield return (name, BlasVendor.OpenBlas);
        }
    }

    private static BlasVendor Detect(nint handle) =>
        NativeLibrary.TryGetExport(handle, "openblas_get_config", out _) ? BlasVendor.OpenBlas
        : NativeLibrary.TryGetExport(handle, "MKL_Get_Version_String", out _) ? BlasVendor.Mkl
        : BlasVendor.Other;

    /// <summary>
    /// Sets OPENBLAS_CORETYPE=SKYLAKEX in the native environment (libc setenv: Environment.SetEnvironmentVariable does not
    /// reach native getenv on Linux) when the CPU has AVX-512 and the user has not chosen a core type.
    /// </summary>
    private static bool SetOpenBlasCoreType(List<string> reasons)
    {
        if (!OperatingSystem.IsLinux() || !Avx512F.IsSupported || Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is not null)
        {
            return false;
        }

        if (!NativeLibrary.TryLoad("libc.so.6", out nint libc) || !NativeLibrary.TryGetExport(libc, "setenv", out nint setenv))
        {
            reasons.Add("libc setenv not found: OPENBLAS_CORETYPE left unset");
            return false;
        }

        var f = (delegate* unmanaged<byte*, byte*, int, int>)setenv;
        fixed (byte* key = "OPENBLAS_CORETYPE\0"u8, value = "SKYLAKEX\0"u8)
        {
            return f(key, value, 0) == 0;
        }
    }

    /// <summary>MKL's default Intel threading needs libiomp5; use the GNU layer with libgomp (best effort).</summary>
    private void UseGnuThreadingLayer()
    {
        if (NativeLibrary.TryGetExport(Handle, "MKL_Set_Threading_Layer", out nint setLayer) && NativeLibrary.TryLoad("libgomp.so.1", out _))
        {
            const int gnu = 3; // MKL_THREADING_GNU
            ((delegate* unmanaged<int, int>)setLayer)(gnu);
        }
    }

    public void SetThreads(int threads)
    {
        string symbol = Vendor == BlasVendor.Mkl ? "MKL_Set_Num_Threads" : "openblas_set_num_threads";
        if (NativeLibrary.TryGetExport(Handle, symbol, out nint f))
        {
            ((delegate* unmanaged<int, void>)f)(threads);
        }
    }

    /// <summary>The library's own description: OpenBLAS config and core name, or MKL's version string.</summary>
    public string Describe()
    {
        if (NativeLibrary.TryGetExport(Handle, "openblas_get_config", out nint config))
        {
            string text = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)config)()) ?? "?";
            if (NativeLibrary.TryGetExport(Handle, "openblas_get_corename", out nint core))
            {
                text += $", core {Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)core)())}";
            }

            return text;
        }

        if (NativeLibrary.TryGetExport(Handle, "MKL_Get_Version_String", out nint version))
        {
            var buffer = new byte[256];
            fixed (byte* p = buffer)
            {
                ((delegate* unmanaged<byte*, int, void>)version)(p, buffer.Length);
            }

            return System.Text.Encoding.ASCII.GetString(buffer).TrimEnd('\0').Trim();
        }

        return "no version information";
    }

    private nint Export(string symbol) => NativeLibrary.GetExport(Handle, symbol);
}
