namespace FeatureLearning.Backends.Ilgpu;

/// <summary>Which kind of ILGPU accelerator the backend runs on.</summary>
public enum IlgpuDevice
{
    /// <summary>The first CUDA device, else the first OpenCL 2.0+ device ILGPU supports, else the CPU accelerator.</summary>
    Auto = 0,

    /// <summary>An NVIDIA GPU through CUDA; GEMM, SYRK and the Cholesky factorization go to cuBLAS and cuSOLVER when found.</summary>
    Cuda = 1,

    /// <summary>An OpenCL 2.0+ device (ILGPU needs the generic address space).</summary>
    OpenCL = 2,

    /// <summary>ILGPU's CPU accelerator: runs the device kernels on the CPU, for tests and debugging (about a thousand times slower than the CPU backends).</summary>
    Cpu = 3,
}
