using FeatureLearning.Backends.Native;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Tests.Compute;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Backends.Native.Tests;

/// <summary>Whether a BLAS/LAPACK library is available here, probed once.</summary>
internal static class NativeProbe
{
    private static readonly Lazy<(bool Found, string Reasons)> Result = new(() =>
    {
        bool found = NativeBackend.TryCreate(null, out var backend, out var reasons);
        backend?.Dispose();
        return (found, string.Join("; ", reasons));
    });

    public static bool Found => Result.Value.Found;

    public static string? SkipReason => Found ? null : $"no BLAS/LAPACK library found ({Result.Value.Reasons}); install libopenblas0-pthread";

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The shared conformance suite on the native backend (skipped with the reason where no library is installed).</summary>
public sealed class NativeBackendConformanceTests : BackendConformanceTests
{
    protected override string? SkipReason => NativeProbe.SkipReason;

    protected override IComputeBackend CreateBackend() => new NativeBackend();
}

public sealed class NativeBackendTests
{
    [SkippableFact]
    public void TheLibraryIsFoundInCi()
    {
        Skip.IfNot(NativeProbe.InCi, "only asserted in CI (CI=true), where .ci/run installs OpenBLAS");
        NativeProbe.Found.Should().BeTrue($"CI installs libopenblas0-pthread, so a library must be found: {NativeProbe.SkipReason}");
    }

    [Fact]
    public void AnExplicitMissingLibraryIsReportedWithItsReason()
    {
        bool found = NativeBackend.TryCreate(new NativeBackendOptions { LibraryPath = "/nonexistent/libnotblas.so" }, out var backend, out var reasons);
        found.Should().BeFalse();
        backend.Should().BeNull();
        reasons.Should().ContainSingle().Which.Should().Contain("/nonexistent/libnotblas.so");
        ((Action)(() => _ = new NativeBackend(new NativeBackendOptions { LibraryPath = "/nonexistent/libnotblas.so" })))
            .Should().Throw<InvalidOperationException>().WithMessage("*libnotblas.so*libopenblas0-pthread*");
    }

    [SkippableFact]
    public void DescribeNamesTheLibraryAndItIsSelectableByName()
    {
        Skip.If(NativeProbe.SkipReason is not null, NativeProbe.SkipReason);
        using var backend = ComputeBackends.Create("native");
        backend.Should().BeOfType<NativeBackend>();
        string text = backend.Describe();
        text.Should().StartWith("native backend:");
        text.Should().Contain(((NativeBackend)backend).LibraryName);
    }

    [SkippableFact]
    public void KernelRidgeAndRfmMatchTheManagedBackend()
    {
        Skip.If(NativeProbe.SkipReason is not null, NativeProbe.SkipReason);
        using var native = new NativeBackend();
        using var managed = new ManagedBackend();
        var x = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(300, 6, Random(300, 6, 1));
        var y = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(300, 2, Random(300, 2, 2));
        var options = new RfmOptions { Kernel = new LaplaceKernel(3), Ridge = 1e-2, Iterations = 3 };
        var a = new RecursiveFeatureMachine(options with { Backend = native }).Fit(x, y);
        var b = new RecursiveFeatureMachine(options with { Backend = managed }).Fit(x, y);
        RelativeError(a.FeatureMatrix.ToRowMajorArray(), b.FeatureMatrix.ToRowMajorArray()).Should().BeLessThan(1e-9);
        RelativeError(a.Coefficients.ToRowMajorArray(), b.Coefficients.ToRowMajorArray()).Should().BeLessThan(1e-9);
    }

    [SkippableFact]
    public void GrokkingFollowsTheSameAccuracyCurveAsManaged()
    {
        Skip.If(NativeProbe.SkipReason is not null, NativeProbe.SkipReason);
        using var native = new NativeBackend();
        using var managed = new ManagedBackend();
        var task = ModularArithmetic.Create(23, ModularOperation.Add);
        var (train, test) = task.Split(0.8, seed: 0);
        var validation = (task.Inputs<double>(test), task.Targets<double>(test));
        var curve = new List<double[]>();
        foreach (IComputeBackend backend in new IComputeBackend[] { native, managed })
        {
            var model = new RecursiveFeatureMachine(RfmOptions.Grokking(16) with { Backend = backend, SelectBy = SelectionMetric.Last })
                .Fit(task.Inputs<double>(train), task.Targets<double>(train), validation);
            curve.Add(model.History.Select(h => h.ValidationAccuracy).ToArray());
        }

        curve[0].Should().Equal(curve[1]);
        curve[0][^1].Should().Be(1.0);
    }
}
