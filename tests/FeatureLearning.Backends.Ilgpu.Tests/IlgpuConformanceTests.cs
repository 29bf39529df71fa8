using FeatureLearning.Compute;
using FeatureLearning.Tests.Compute;

namespace FeatureLearning.Backends.Ilgpu.Tests;

/// <summary>
/// The shared conformance suite on the ILGPU backend's default device: ILGPU's CPU accelerator on a machine without a
/// GPU (CI), CUDA with cuBLAS and cuSOLVER on an NVIDIA machine (or whatever FEATURELEARNING_DEVICE names).
/// </summary>
public sealed class IlgpuConformanceTests : BackendConformanceTests
{
    protected override IComputeBackend CreateBackend() => new IlgpuBackend();
}

/// <summary>Every estimator on the ILGPU backend's default device against the managed backend (double and single precision).</summary>
public sealed class IlgpuCrossBackendEstimatorTests : FeatureLearning.Tests.Conformance.CrossBackendEstimatorTests
{
    protected override IComputeBackend CreateBackend() => new IlgpuBackend();
}

/// <summary>
/// The conformance suite on CUDA with cuBLAS and cuSOLVER turned off, so the portable ILGPU GEMM, Cholesky and solves
/// run on the GPU. Off CUDA the default suite already runs those kernels, so this one is skipped there.
/// </summary>
[Trait("Category", "GPU")]
public sealed class IlgpuPortableKernelsOnCudaTests : BackendConformanceTests
{
    protected override string? SkipReason => GpuProbe.HasCuda ? null : "no CUDA device here (the default suite runs the portable kernels)";

    protected override IComputeBackend CreateBackend() => new IlgpuBackend(new IlgpuBackendOptions { Device = IlgpuDevice.Cuda, UseCudaLibraries = false });
}

/// <summary>Whether ILGPU sees a CUDA device here.</summary>
internal static class GpuProbe
{
    private static readonly Lazy<bool> Cuda = new(() => IlgpuBackend.ListDevices().Any(d => d.StartsWith("Cuda", StringComparison.Ordinal)));

    public static bool HasCuda => Cuda.Value;
}
