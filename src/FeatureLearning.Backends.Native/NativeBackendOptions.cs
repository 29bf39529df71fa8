namespace FeatureLearning.Backends.Native;

/// <summary>Options of <see cref="NativeBackend"/>.</summary>
public sealed record NativeBackendOptions
{
    /// <summary>
    /// An explicit library to load (a file path or a name the loader resolves). When null, the environment variable
    /// <c>FEATURELEARNING_BLAS</c> is tried, then MKL (<c>mkl_rt.2.dll</c>, <c>libmkl_rt.so.2</c>, <c>libmkl_rt.so</c>,
    /// <c>libmkl_rt.dylib</c>), then OpenBLAS (<c>libopenblas.so.0</c>, <c>libopenblas.so</c>, <c>libopenblas.dll</c>,
    /// <c>libopenblas.dylib</c>).
    /// </summary>
    public string? LibraryPath { get; init; }

    /// <summary>Threads for the library (<c>openblas_set_num_threads</c> / <c>MKL_Set_Num_Threads</c>) and for the C# parts; 0 uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// On a CPU with AVX-512 and no <c>OPENBLAS_CORETYPE</c> in the environment, set it to <c>SKYLAKEX</c> before
    /// OpenBLAS loads (default true): Debian's OpenBLAS 0.3.21 does not recognise some AVX-512 CPUs and falls back to
    /// its AVX2 kernels, 1.6–1.9× slower. It has no effect once OpenBLAS is already loaded in the process.
    /// </summary>
    public bool SelectAvx512Kernels { get; init; } = true;

    /// <summary>Bytes of disposed buffers kept for reuse (-1: an eighth of available memory; 0: off), as for the managed backend.</summary>
    public long BufferPoolBytes { get; init; } = -1;
}
