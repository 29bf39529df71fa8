using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.Rfm;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Rfm;

/// <summary>RFM checks shared with the other backends' test projects.</summary>
public static class RfmChecks
{
    /// <summary>
    /// The check of <see cref="RfmTests.GrokkingReadsTheGaussianWeightsOffTheKernelMatrix"/> on <paramref name="backend"/> (a
    /// CPU backend). M = G itself: the square root would amplify the rounding in G's near-zero eigenvalues. In double
    /// precision with the double solve (ridge 0, as grokking) and the mixed-precision one (which leaves K + λI whole; ridge
    /// 10⁻³), to 1e-10; in single precision to 1e-2, where the rounds amplify the rounding (the two ways differ by 5e-4 after
    /// three rounds; reading the wrong triangle moves M by order one). Single precision is compared one AGOP at a time to
    /// 1e-5 in AgopTests. The mixed-precision fits' coefficients are compared to 1e-8: each solve stops once its residual
    /// meets the double-precision criterion (‖r‖ ≤ √n·ε·‖K + λI‖·‖α‖), and two fits whose M differ in the twelfth digit can
    /// stop a refinement step apart, which leaves their α apart by up to κ·√n·ε (4 and 5 steps in the last round gave 8e-10
    /// once the solve's look-ahead runs changed its rounding; the M of every round still agreed to 3e-12).
    /// </summary>
    public static void WeightsFromKernelMatchStoredWeights(IComputeBackend backend)
    {
        Check<double>(backend, 0, MixedPrecision.Off, 1e-10, 1e-10);
        Check<double>(backend, 1e-3, MixedPrecision.On, 1e-10, 1e-8);
        Check<float>(backend, 0, MixedPrecision.Off, 1e-2, 1e-2);
    }

    private static void Check<T>(IComputeBackend backend, double ridge, MixedPrecision mixed, double tolerance, double coefficientTolerance)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // p = 37: 37 outputs fill the register-blocked kernel's output block in both precisions (16 doubles, 32 floats).
        const int p = 37;
        var task = ModularArithmetic.Create(p, ModularOperation.Add);
        var (train, _) = task.Split(0.4, seed: 1);
        var x = task.Inputs<T>(train);
        var y = task.Targets<T>(train);
        var options = RfmOptions.Grokking(4) with
        {
            Backend = backend,
            RecordFeatureMatrices = true,
            AgopPower = 1,
            Ridge = ridge,
            Cholesky = CholeskyOptions.Default with { MixedPrecision = mixed },
        };
        string where = $"{typeof(T).Name}, ridge {ridge}, mixed precision {mixed}";
        var pattern = SparseColumns.ForAgop<T>(AgopForm.Auto, backend, x.ToRowMajorArray(), x.RowCount, x.ColumnCount);
        bool supported = FeatureLearning.Compute.Managed.SparseGradientKernel<T>.Supported;
        AgopEngine.ReadsWeightsFromKernel<T>(backend, options.Kernel, x.RowCount, x.ColumnCount, p, AgopForm.Auto, pattern)
            .Should().Be(supported, "the fit reads W off K wherever the register-blocked kernel runs");

        int before = AgopEngine.KernelWeightReads;
        var fromKernel = new RecursiveFeatureMachine(options).Fit(x, y);
        AgopEngine.KernelWeightReads.Should().Be(before + (supported ? options.Rounds - 1 : 0), $"{where}: every round but the last reads W off K");
        AgopEngine.WeightsFromKernel = false;
        RfmModel<T> stored;
        try
        {
            AgopEngine.ReadsWeightsFromKernel<T>(backend, options.Kernel, x.RowCount, x.ColumnCount, p, AgopForm.Auto, pattern).Should().BeFalse();
            before = AgopEngine.KernelWeightReads;
            stored = new RecursiveFeatureMachine(options).Fit(x, y);
            AgopEngine.KernelWeightReads.Should().Be(before, $"{where}: the fit stores W");
        }
        finally
        {
            AgopEngine.WeightsFromKernel = null;
        }

        double[] Of(MathNet.Numerics.LinearAlgebra.Matrix<T> m) => m.ToRowMajorArray().Select(double.CreateTruncating).ToArray();
        for (int t = 1; t < stored.FeatureMatrixHistory.Count; t++)
        {
            RelativeError(fromKernel.FeatureMatrixHistory[t].ToRowMajorArray(), stored.FeatureMatrixHistory[t].ToRowMajorArray())
                .Should().BeLessThan(tolerance, $"{where}, round {t}");
        }

        RelativeError(Of(fromKernel.Coefficients), Of(stored.Coefficients)).Should().BeLessThan(coefficientTolerance, where);
        RelativeError(stored.FeatureMatrixHistory[^1].ToRowMajorArray(), stored.FeatureMatrixHistory[1].ToRowMajorArray()).Should().BeGreaterThan(0.01, "the metric moves");
    }
}
