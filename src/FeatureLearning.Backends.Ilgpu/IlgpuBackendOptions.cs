namespace FeatureLearning.Backends.Ilgpu;

/// <summary>Settings of an <see cref="IlgpuBackend"/>.</summary>
public sealed record IlgpuBackendOptions
{
    /// <summary>
    /// The environment variable that chooses the device when <see cref="Device"/> is <see cref="IlgpuDevice.Auto"/>:
    /// <c>cuda</c>, <c>opencl</c> or <c>cpu</c>, optionally followed by <c>:index</c> (e.g. <c>cuda:1</c>).
    /// </summary>
    public const string DeviceVariable = "FEATURELEARNING_DEVICE";

    /// <summary>The kind of device; <see cref="IlgpuDevice.Auto"/> (the default) honours <see cref="DeviceVariable"/>, then prefers CUDA, OpenCL and the CPU accelerator in that order.</summary>
    public IlgpuDevice Device { get; init; } = IlgpuDevice.Auto;

    /// <summary>Index among the devices of the chosen kind (0 = the first).</summary>
    public int DeviceIndex { get; init; }

    /// <summary>On CUDA, send GEMM, SYRK, the Cholesky factorization and the triangular solves to cuBLAS and cuSOLVER (default true); false runs the portable ILGPU kernels everywhere.</summary>
    public bool UseCudaLibraries { get; init; } = true;

    /// <summary>A directory to search first for cuBLAS and cuSOLVER (otherwise the loader's path, <c>CUDA_PATH</c> and <c>/usr/local/cuda</c>).</summary>
    public string? CudaLibraryDirectory { get; init; }

    /// <summary>
    /// Bytes of disposed buffers to keep for reuse by later allocations of the same size: -1 (the default) keeps up to a
    /// quarter of the device memory, 0 turns pooling off. An RFM round allocates the same n × n buffers every time;
    /// pooling avoids the device allocator's synchronization. A failed allocation empties the pool and retries.
    /// </summary>
    public long BufferPoolBytes { get; init; } = -1;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        Validation.DefinedEnum(Device, nameof(Device));

        ArgumentOutOfRangeException.ThrowIfNegative(DeviceIndex, nameof(DeviceIndex));
        ArgumentOutOfRangeException.ThrowIfLessThan(BufferPoolBytes, -1, nameof(BufferPoolBytes));
    }
}
