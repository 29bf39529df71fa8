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

    /// <summary>The environment variable that names a library (a path, a loader name, or <c>mkl</c> / <c>openblas</c>).</summary>
    internal const string EnvironmentVariable = "FEATURELEARNING_BLAS";

    /// <summary>
    /// Probes the candidates in order and returns the first library that exports every entry point, or null with the
    /// reasons when none does.
    /// </summary>
    /// <param name="options">The options; <see cref="NativeBackendOptions.LibraryPath"/> takes precedence over the variable.</param>
    /// <param name="reasons">Receives why each candidate was rejected.</param>
    /// <param name="environmentValue">The value of <c>FEATURELEARNING_BLAS</c> (passed in, so that tests need not set the process environment).</param>
    /// <exception cref="InvalidOperationException"><c>FEATURELEARNING_BLAS</c> names a library that could not be used: a
    /// misconfiguration is reported, never papered over by probing other libraries.</exception>
    public static BlasLibrary? TryLoad(NativeBackendOptions options, List<string> reasons, string? environmentValue)
    {
        var request = Resolve(options.LibraryPath, environmentValue);
        int before = reasons.Count;
        bool coreTypeSet = false;
        foreach (var (name, vendor) in request.Candidates)
        {
            if (!coreTypeSet && options.SelectAvx512Kernels && (vendor == BlasVendor.OpenBlas || LooksLikeOpenBlas(name)))
            {
                coreTypeSet = SetOpenBlasCoreType(reasons);
            }

            if (!TryLoadLibrary(name, out nint handle, out string? error))
            {
                reasons.Add($"{name}: {error}");
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
            var library = new BlasLibrary(handle, name, detected) { CoreTypeSetByUs = coreTypeSet && detected == BlasVendor.OpenBlas };
            if (detected == BlasVendor.Mkl && !library.ConfigureMkl(out string? problem))
            {
                reasons.Add($"{name}: {problem}");
                NativeLibrary.Free(handle);
                continue;
            }

            return library;
        }

        if (request.Source == EnvironmentVariable)
        {
            throw new InvalidOperationException(
                $"{EnvironmentVariable}={request.Value} names a BLAS/LAPACK library that could not be used: " +
                string.Join("; ", reasons.Skip(before)) +
                $". Give a loadable path or name (or mkl / openblas), or unset {EnvironmentVariable} to probe MKL, then OpenBLAS.");
        }

        return null;
    }

    /// <summary>
    /// Which libraries to try, in order, and what asked for them: <paramref name="libraryPath"/> (the option), else
    /// <paramref name="environmentValue"/> (<c>FEATURELEARNING_BLAS</c>), else the default probe (MKL, then OpenBLAS). The
    /// values <c>mkl</c> and <c>openblas</c> (any case) stand for that vendor's usual library names; anything else is one
    /// path or loader name. An explicit choice never falls back to other libraries.
    /// </summary>
    internal static BlasRequest Resolve(string? libraryPath, string? environmentValue)
    {
        var (source, value) = !string.IsNullOrWhiteSpace(libraryPath) ? ("NativeBackendOptions.LibraryPath", libraryPath.Trim())
            : !string.IsNullOrWhiteSpace(environmentValue) ? (EnvironmentVariable, environmentValue.Trim())
            : ((string?)null, (string?)null);
        IEnumerable<(string, BlasVendor)> mkl = MklNames.Select(n => (n, BlasVendor.Mkl));
        IEnumerable<(string, BlasVendor)> openBlas = OpenBlasNames.Select(n => (n, BlasVendor.OpenBlas));
        var candidates = value switch
        {
            null => mkl.Concat(openBlas),
            _ when value.Equals("mkl", StringComparison.OrdinalIgnoreCase) => mkl,
            _ when value.Equals("openblas", StringComparison.OrdinalIgnoreCase) => openBlas,
            _ => [(value, BlasVendor.Other)],
        };
        return new BlasRequest(candidates.ToList(), source, value);
    }

    private static bool LooksLikeOpenBlas(string name) => Path.GetFileName(name).Contains("openblas", StringComparison.OrdinalIgnoreCase);

    /// <summary>Loads by name or path (next to the assembly first, then the system search), keeping the loader's error.</summary>
    private static bool TryLoadLibrary(string name, out nint handle, out string? error)
    {
        if (NativeLibrary.TryLoad(name, typeof(BlasLibrary).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out handle))
        {
            error = null;
            return true;
        }

        try
        {
            handle = NativeLibrary.Load(name);
            error = null;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            handle = 0;
            error = "not loadable: " + string.Join(' ', e.Message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            return false;
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

    /// <summary>MKL's threading layer as it was configured (null for other vendors), e.g. "GNU (libgomp.so.1)".</summary>
    public string? MklThreading { get; private set; }

    /// <summary>
    /// Chooses MKL's interface and threading layers, which must happen before its first computational call. The entry
    /// points here take 32-bit integers, so the interface is LP64 (an <c>MKL_INTERFACE_LAYER=ILP64</c> in the
    /// environment is overridden; a library that cannot switch is rejected). Threading: a user's
    /// <c>MKL_THREADING_LAYER</c> is respected; otherwise the Intel layer where <c>libiomp5</c> is loadable, else the GNU
    /// layer with <c>libgomp.so.1</c> loaded with global symbols (the layer's library resolves <c>omp_*</c> from the global
    /// scope, and without libiomp5 the default Intel layer kills the process on its first call), else sequential.
    /// </summary>
    private bool ConfigureMkl(out string? problem)
    {
        problem = null;
        if (!NativeLibrary.TryGetExport(Handle, "MKL_Set_Interface_Layer", out nint setInterface)
            || !NativeLibrary.TryGetExport(Handle, "MKL_Set_Threading_Layer", out nint setThreading))
        {
            problem = "an MKL without MKL_Set_Interface_Layer / MKL_Set_Threading_Layer (not the single dynamic library mkl_rt)";
            return false;
        }

        const int lp64 = 0, ilp64 = 1, intel = 0, sequential = 1, gnu = 3;
        int @interface = ((delegate* unmanaged<int, int>)setInterface)(lp64);
        if (@interface < 0 || (@interface & ilp64) != 0)
        {
            problem = $"MKL's interface layer could not be set to LP64 (32-bit integers) (MKL_Set_Interface_Layer returned {@interface})";
            return false;
        }

        string? requested = Environment.GetEnvironmentVariable("MKL_THREADING_LAYER");
        if (!string.IsNullOrWhiteSpace(requested))
        {
            bool gomp = requested.Trim().Equals("GNU", StringComparison.OrdinalIgnoreCase) && LoadGlobal("libgomp.so.1");
            MklThreading = $"{requested.Trim().ToUpperInvariant()} (from MKL_THREADING_LAYER{(gomp ? ", libgomp.so.1" : string.Empty)})";
            return true;
        }

        string iomp = OperatingSystem.IsWindows() ? "libiomp5md.dll" : OperatingSystem.IsMacOS() ? "libiomp5.dylib" : "libiomp5.so";
        var (layer, text) = NativeLibrary.TryLoad(iomp, typeof(BlasLibrary).Assembly, null, out _) ? (intel, $"Intel ({iomp})")
            : OperatingSystem.IsLinux() && LoadGlobal("libgomp.so.1") ? (gnu, "GNU (libgomp.so.1; no libiomp5)")
            : (sequential, "sequential (neither libiomp5 nor libgomp found)");
        int set = ((delegate* unmanaged<int, int>)setThreading)(layer);
        if (set != layer)
        {
            problem = $"MKL_Set_Threading_Layer({layer}) returned {set}: the threading layer is not available";
            return false;
        }

        MklThreading = text;
        return true;
    }

    /// <summary>dlopen with RTLD_NOW | RTLD_GLOBAL (NativeLibrary loads with local symbols).</summary>
    private static bool LoadGlobal(string name)
    {
        const int now = 0x2, global = 0x100;
        nint dlopen = 0;
        foreach (string libdl in new[] { "libc.so.6", "libdl.so.2" })
        {
            if (NativeLibrary.TryLoad(libdl, out nint h) && NativeLibrary.TryGetExport(h, "dlopen", out dlopen))
            {
                break;
            }
        }

        if (dlopen == 0)
        {
            return false;
        }

        var utf8 = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = utf8)
        {
            return ((delegate* unmanaged<byte*, int, nint>)dlopen)(p, now | global) != 0;
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
