using FeatureLearning.Compute;
using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Tests.Compute;

/// <summary>The conformance suite on the managed backend (all cores).</summary>
public sealed class ManagedBackendTests : BackendConformanceTests
{
    protected override IComputeBackend CreateBackend() => new ManagedBackend();

    [Fact]
    public void DescribeReportsThreadsAndSimdWidth()
    {
        string text = Backend.Describe();
        text.Should().Contain($"{Environment.ProcessorCount} thread");
        text.Should().Contain($"SIMD {PackedGemm<double>.SimdBits}-bit");
    }

    [Fact]
    public void SimdOverrideSelectsTheFallbackMicroKernel()
    {
        // .ci/run reruns the conformance suite with FEATURELEARNING_SIMD=256 and =scalar: make sure the switch took.
        string? forced = Environment.GetEnvironmentVariable("FEATURELEARNING_SIMD");
        bool avx2 = System.Runtime.Intrinsics.X86.Fma.IsSupported && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated;
        int expected = forced switch
        {
            "scalar" => 64,
            "256" => avx2 ? 256 : 64,
            _ => PackedGemm<double>.SimdBits,
        };
        PackedGemm<double>.SimdBits.Should().Be(expected);
        PackedGemm<float>.SimdBits.Should().Be(forced == "scalar" ? 32 : (forced == "256" && avx2 ? 256 : PackedGemm<float>.SimdBits));
    }
}

/// <summary>The conformance suite on a single-threaded managed backend (the serial code path).</summary>
public sealed class SerialManagedBackendTests : BackendConformanceTests
{
    protected override IComputeBackend CreateBackend() => new ManagedBackend(1);
}
