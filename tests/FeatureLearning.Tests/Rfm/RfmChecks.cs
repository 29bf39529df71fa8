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
    /// CPU backend), in double precision. M = G itself: the square root would amplify the rounding in G's near-zero
    /// eigenvalues, and the rounds' dynamics amplify any difference further (single precision is compared one AGOP at a time,
    /// in AgopTests).
    /// </summary>
    public static void WeightsFromKernelMatchStoredWeights(IComputeBackend backend)
    {
        // p = 37: 37 outputs fill the register-blocked kernel's output block.
        const int p = 37;
        var task = ModularArithmetic.Create(p, ModularOperation.Add);
        var (train, _) = task.Split(0.4, seed: 1);
        var x = task.Inputs<double>(train);
        var y = task.Targets<double>(train);
        var options = RfmOptions.Grokking(4) with { Backend = backend, RecordFeatureMatrices = true, AgopPower = 1 };
        var pattern = SparseColumns.ForAgop<double>(AgopForm.Auto, backend, x.ToRowMajorArray(), x.RowCount, x.ColumnCount);
        bool supported = FeatureLearning.Compute.Managed.SparseGradientKernel<double>.Supported;
        AgopEngine.ReadsWeightsFromKernel<double>(backend, options.Kernel, x.RowCount, x.ColumnCount, p, AgopForm.Auto, pattern)
            .Should().Be(supported, "the fit reads W off K wherever the register-blocked kernel runs");

        var fromKernel = new RecursiveFeatureMachine(options).Fit(x, y);
        AgopEngine.WeightsFromKernel = false;
        RfmModel<double> stored;
        try
        {
            AgopEngine.ReadsWeightsFromKernel<double>(backend, options.Kernel, x.RowCount, x.ColumnCount, p, AgopForm.Auto, pattern).Should().BeFalse();
            stored = new RecursiveFeatureMachine(options).Fit(x, y);
        }
        finally
        {
            AgopEngine.WeightsFromKernel = null;
        }

        for (int t = 1; t < stored.FeatureMatrixHistory.Count; t++)
        {
            RelativeError(fromKernel.FeatureMatrixHistory[t].ToRowMajorArray(), stored.FeatureMatrixHistory[t].ToRowMajorArray())
                .Should().BeLessThan(1e-10, $"round {t}");
        }

        RelativeError(fromKernel.Coefficients.ToRowMajorArray(), stored.Coefficients.ToRowMajorArray()).Should().BeLessThan(1e-10);
        RelativeError(stored.FeatureMatrixHistory[^1].ToRowMajorArray(), stored.FeatureMatrixHistory[1].ToRowMajorArray()).Should().BeGreaterThan(0.01, "the metric moves");
    }
}
