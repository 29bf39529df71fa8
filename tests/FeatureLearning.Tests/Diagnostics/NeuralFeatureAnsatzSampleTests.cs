using FeatureLearning.Samples.Nfa;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary>
/// The fast version of samples/NeuralFeatureAnsatz (its core is linked into the tests): a 20 → 64 → 64 → 1 ReLU network on
/// y = (u₁ᵀx)(u₂ᵀx) with 800 training points, 40 epochs of SGD. The acceptance: the first layer's NFA
/// correlation rises during training and ends above 0.9, and WᵀW concentrates on the two planted directions.
/// </summary>
public sealed class NeuralFeatureAnsatzSampleTests
{
    [Fact]
    public void TheFirstLayersFeatureMatrixLearnsThePlantedPlane()
    {
        var settings = new NfaSettings { Width = 64, TrainSize = 800, TestSize = 200, AgopSize = 200, Epochs = 40, Every = 10, LearningRate = 0.1 };
        var reports = new List<NfaReport>();
        var (network, _, task) = NeuralFeatureAnsatzRun.Run(settings, null, reports.Add);
        using (network)
        {
            reports.Should().HaveCount(5);
            reports[^1].TestMse.Should().BeLessThan(reports[0].TestMse / 4, "the network learns the target");
            reports[^1].Layer1Correlation.Should().BeGreaterThan(0.9);
            reports[^1].Layer1Correlation.Should().BeGreaterThan(reports[0].Layer1Correlation, "the correlation rises from its value at initialisation");
            reports[^1].TargetAlignment.Should().BeGreaterThan(0.9, "the input AGOP aligns with the target's");

            // Isotropic WᵀW would put 2/20 = 10% of its trace in the plane; seeds 0, 1, 2 of this setting measured 61%, 65%,
            // 69%, and principal-angle cosines of at least 0.994 between WᵀW's top-2 eigenvectors and the plane.
            var feature = FeatureLearning.Diagnostics.NeuralFeatureAnsatz.NeuralFeatureMatrix(network, 0);
            NeuralFeatureAnsatzRun.PlantedEnergyFraction(feature, task.Directions).Should().BeGreaterThan(0.4);
            NeuralFeatureAnsatzRun.PrincipalCosines(feature, task.Directions)[0].Should().BeGreaterThan(0.95);
        }
    }
}
