using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Solvers;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Backends.Ilgpu.Tests;

/// <summary>The Nyström solver and a Nyström RFM on the ILGPU backend (tiny: the CPU accelerator is slow) against the managed backend.</summary>
public sealed class IlgpuNystromTests
{
    [Fact]
    public void NystromKernelRidgeAndRfmMatchTheManagedBackend()
    {
        var x = Matrix<double>.Build.DenseOfRowMajor(24, 3, Random(24, 3, 1));
        var y = Matrix<double>.Build.DenseOfRowMajor(24, 2, Random(24, 2, 2));
        var solver = KernelSolver.Nystrom(8, seed: 1) with { MemoryBudgetBytes = 0, BlockRows = 10, Tolerance = 1e-12 };
        using var ilgpu = new IlgpuBackend();
        var managed = new ManagedBackend();

        var options = new KernelRidgeOptions { Kernel = new LaplaceKernel(2.0), Ridge = 1e-3, Solver = solver };
        var onDevice = new KernelRidge(options with { Backend = ilgpu }).Fit(x, y);
        var reference = new KernelRidge(options with { Backend = managed }).Fit(x, y);
        RelativeError(onDevice.Coefficients.ToRowMajorArray(), reference.Coefficients.ToRowMajorArray()).Should().BeLessThan(1e-9);

        var rfm = new RfmOptions { Kernel = new LaplaceKernel(2.0), Rounds = 2, AgopSampleSize = 12, Solver = solver };
        var rfmDevice = new RecursiveFeatureMachine(rfm with { Backend = ilgpu }).Fit(x, y);
        var rfmReference = new RecursiveFeatureMachine(rfm with { Backend = managed }).Fit(x, y);
        RelativeError(rfmDevice.FeatureMatrix.ToRowMajorArray(), rfmReference.FeatureMatrix.ToRowMajorArray()).Should().BeLessThan(1e-9);
        RelativeError(rfmDevice.Coefficients.ToRowMajorArray(), rfmReference.Coefficients.ToRowMajorArray()).Should().BeLessThan(1e-9);
    }
}
