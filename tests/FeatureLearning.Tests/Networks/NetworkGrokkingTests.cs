using FeatureLearning.Samples.NetworkGrokking;

namespace FeatureLearning.Tests.Networks;

/// <summary>
/// The fast version of samples/NetworkGrokking (its core is linked into the tests): a width-64 quadratic network on
/// a + b mod 17 with 60% of the pairs for training memorises first and generalises later — the grokking signature —
/// within 3,000 epochs of full-batch GD (measured on an H100: train 100% / test 44% at epoch 1,000, test 100% at 3,000).
/// </summary>
public sealed class NetworkGrokkingTests
{
    [Fact]
    public void ATwoLayerQuadraticNetworkMemorisesThenGeneralises()
    {
        var settings = new NetworkGrokkingSettings { Modulus = 17, Width = 64, TrainFraction = 0.6, Epochs = 3000, Every = 250 };
        var reports = new List<GrokkingReport>();
        var (network, _, _, _) = NetworkGrokkingRun.Run(settings, null, reports.Add);
        network.Dispose();

        reports.Should().HaveCount((settings.Epochs / settings.Every) + 1);
        reports[0].TestAccuracy.Should().BeLessThan(0.2, "at initialisation the network is near chance (1/17)");
        var memorised = reports.First(r => r.TrainAccuracy == 1);
        memorised.TestAccuracy.Should().BeLessThan(0.6, $"the training set is fitted (epoch {memorised.Epoch}) before the test set is");
        reports[^1].TrainAccuracy.Should().Be(1);
        reports[^1].TestAccuracy.Should().BeGreaterThanOrEqualTo(0.95, "the network generalises by epoch 3,000");
        reports[^1].TestLoss.Should().BeLessThan(memorised.TestLoss / 2, "the test loss falls after memorisation");
    }
}
