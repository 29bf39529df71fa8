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

    /// <summary>The value of FEATURELEARNING_BLAS (.ci/run sets mkl, then openblas), or null.</summary>
    public static string? Requested => Environment.GetEnvironmentVariable("FEATURELEARNING_BLAS") is { Length: > 0 } v ? v.Trim() : null;
}

/// <summary>Every estimator on the native backend against the managed backend (double and single precision).</summary>
public sealed class NativeCrossBackendEstimatorTests : FeatureLearning.Tests.Conformance.CrossBackendEstimatorTests
{
    protected override string? SkipReason => NativeProbe.SkipReason;

    protected override IComputeBackend CreateBackend() => new NativeBackend();
}

/// <summary>The shared conformance suite on the native backend (skipped with the reason where no library is installed).</summary>
public sealed class NativeBackendConformanceTests : BackendConformanceTests
{
    protected override string? SkipReason => NativeProbe.SkipReason;

    protected override IComputeBackend CreateBackend() => new NativeBackend();
}

public sealed class NativeBackendTests
{
    /// <summary>
    /// The kernel product on the native backend, whose GEMM threads itself, forms the kernel matrix and runs the GEMM (a block
    /// of rows at a time): the same as the kernel matrix times α, dense and one-hot inputs, both precisions.
    /// </summary>
    [SkippableTheory]
    [InlineData("gaussian", "full", "dense")]
    [InlineData("laplace", "identity", "onehot")]
    [InlineData("normgaussian", "diagonal", "dense")]
    public void KernelProductEqualsTheKernelMatrixTimesAlpha(string kernelName, string metricName, string inputs)
    {
        Skip.If(NativeProbe.SkipReason is not null, NativeProbe.SkipReason);
        using var backend = new NativeBackend();
        CpuBackend.KernelProductBlockElements = 700 * 128;
        try
        {
            KernelProductCheck.Check<double>(backend, kernelName, metricName, inputs, 1e-12);
            KernelProductCheck.Check<float>(backend, kernelName, metricName, inputs, 1e-5);
        }
        finally
        {
            CpuBackend.KernelProductBlockElements = 0;
        }
    }

    [SkippableFact]
    public void TheLibraryIsFoundInCi()
    {
        Skip.IfNot(NativeProbe.InCi, "only asserted in CI (CI=true), where .ci/run installs OpenBLAS");
        NativeProbe.Found.Should().BeTrue($"CI installs libopenblas0-pthread, so a library must be found: {NativeProbe.SkipReason}");
    }

    [SkippableFact]
    public void TheRequestedVendorIsTheOneLoadedInCi()
    {
        // .ci/run runs this suite once with FEATURELEARNING_BLAS=mkl and once with =openblas: a run that loaded another
        // library, or none (every conformance test skipped), must fail there.
        Skip.IfNot(NativeProbe.InCi, "only asserted in CI (CI=true)");
        Skip.If(NativeProbe.Requested is null, "FEATURELEARNING_BLAS is not set: the default probe (TheLibraryIsFoundInCi covers it)");
        using var backend = new NativeBackend();
        string requested = NativeProbe.Requested!;
        if (requested.Equals("mkl", StringComparison.OrdinalIgnoreCase))
        {
            backend.Vendor.Should().Be(BlasVendor.Mkl);
            backend.LibraryVersion.Should().Contain("Math Kernel Library");
        }
        else if (requested.Equals("openblas", StringComparison.OrdinalIgnoreCase))
        {
            backend.Vendor.Should().Be(BlasVendor.OpenBlas);
            backend.LibraryVersion.Should().StartWith("OpenBLAS ");
        }
        else
        {
            backend.LibraryName.Should().Be(requested);
        }

        NativeProbe.Found.Should().BeTrue();
    }

    [SkippableFact]
    public void DescribeNamesTheVendorAndItsVersion()
    {
        Skip.If(NativeProbe.SkipReason is not null, NativeProbe.SkipReason);
        using var backend = new NativeBackend();
        string text = backend.Describe();
        text.Should().Contain(backend.Vendor.ToString()).And.Contain(backend.LibraryVersion);
        switch (backend.Vendor)
        {
            case BlasVendor.Mkl:
                // "Intel(R) Math Kernel Library Version 2020.0.4 Product Build ..." and the threading layer chosen.
                backend.LibraryVersion.Should().MatchRegex(@"Math Kernel Library Version \d+\.\d+").And.Contain("threading ");
                break;
            case BlasVendor.OpenBlas:
                backend.LibraryVersion.Should().MatchRegex(@"^OpenBLAS \d+\.\d+\.\d+").And.Contain(", core ");
                break;
        }
    }

    [Fact]
    public void ResolutionPrefersTheOptionThenTheVariableThenProbesMklBeforeOpenBlas()
    {
        var probe = BlasLibrary.Resolve(null, "  ");
        probe.Source.Should().BeNull();
        probe.Candidates.Select(c => c.Vendor).Should().StartWith(BlasVendor.Mkl).And.EndWith(BlasVendor.OpenBlas);
        probe.Candidates.Should().Contain(("libmkl_rt.so", BlasVendor.Mkl)).And.Contain(("libopenblas.so.0", BlasVendor.OpenBlas));

        var mkl = BlasLibrary.Resolve(null, "MKL");
        mkl.Source.Should().Be("FEATURELEARNING_BLAS");
        mkl.Candidates.Should().NotBeEmpty().And.OnlyContain(c => c.Vendor == BlasVendor.Mkl);
        BlasLibrary.Resolve(null, "openblas").Candidates.Should().NotBeEmpty().And.OnlyContain(c => c.Vendor == BlasVendor.OpenBlas);

        var path = BlasLibrary.Resolve(null, " /opt/lib/libblas.so ");
        path.Candidates.Should().Equal(("/opt/lib/libblas.so", BlasVendor.Other));
        path.Value.Should().Be("/opt/lib/libblas.so");

        var option = BlasLibrary.Resolve("/x/libopenblas.so", "mkl");
        option.Source.Should().Be("NativeBackendOptions.LibraryPath");
        option.Candidates.Should().Equal(("/x/libopenblas.so", BlasVendor.Other));
    }

    [Fact]
    public void TheVariableNamingAMissingLibraryFailsLoudlyInsteadOfProbing()
    {
        var reasons = new List<string>();
        var act = () => BlasLibrary.TryLoad(new NativeBackendOptions(), reasons, "/nonexistent/libnotblas.so");
        act.Should().Throw<InvalidOperationException>()
            .WithMessage("FEATURELEARNING_BLAS=/nonexistent/libnotblas.so names a BLAS/LAPACK library that could not be used: /nonexistent/libnotblas.so: not loadable: *")
            .Which.Message.Should().Contain(OperatingSystem.IsLinux() ? "No such file or directory" : "libnotblas.so");
        reasons.Should().ContainSingle("no other library was probed");
    }

    [SkippableFact]
    public void TheVariableNamingALibraryWithoutBlasFailsLoudlyWithTheMissingSymbols()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "uses libc.so.6 as a loadable library without BLAS");
        var act = () => BlasLibrary.TryLoad(new NativeBackendOptions(), [], "libc.so.6");
        act.Should().Throw<InvalidOperationException>().WithMessage("FEATURELEARNING_BLAS=libc.so.6 *libc.so.6: loaded but lacks cblas_dgemm, *dsyevd_*");
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
        var options = new RfmOptions { Kernel = new LaplaceKernel(3), Ridge = 1e-2, Rounds = 3 };
        var a = new RecursiveFeatureMachine(options with { Backend = native }).Fit(x, y);
        var b = new RecursiveFeatureMachine(options with { Backend = managed }).Fit(x, y);
        RelativeError(a.FeatureMatrix.ToRowMajorArray(), b.FeatureMatrix.ToRowMajorArray()).Should().BeLessThan(1e-9);
        RelativeError(a.Coefficients.ToRowMajorArray(), b.Coefficients.ToRowMajorArray()).Should().BeLessThan(1e-9);
    }

    /// <summary>
    /// The RFM's AGOP reads the Gaussian's weights off K's strict upper triangle after LAPACK's ?potrf has written the factor
    /// over the rest: the same rounds as with W stored (LAPACK leaves the other triangle as it was).
    /// </summary>
    [SkippableFact]
    public void GrokkingReadsTheGaussianWeightsOffTheFactoredKernelMatrix()
    {
        Skip.If(NativeProbe.SkipReason is not null, NativeProbe.SkipReason);
        using var native = new NativeBackend();
        FeatureLearning.Tests.Rfm.RfmChecks.WeightsFromKernelMatchStoredWeights(native);
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
