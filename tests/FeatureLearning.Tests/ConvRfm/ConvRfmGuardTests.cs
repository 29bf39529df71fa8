using FeatureLearning.Compute;
using FeatureLearning.ConvRfm;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.ConvRfm;

/// <summary>Patches larger than the image and fits whose memory has no bound are rejected before anything is allocated.</summary>
public sealed class ConvRfmGuardTests
{
    private static readonly ManagedBackend Backend = new();

    private static ImageBatch Images(int n) => new(n, 1, 6, 6, Random(1, n * 36, seed: 4));

    private static Matrix<double> Targets(int n) => Matrix<double>.Build.Dense(n, 2, (i, j) => (i + j) % 2);

    [Theory]
    [InlineData(7, 2)]
    [InlineData(7, 3)]
    [InlineData(8, 2)]
    [InlineData(7, 1)]
    public void APatchLargerThanTheImageIsRejectedWhateverTheStride(int patch, int stride)
    {
        var options = new ConvRfmOptions { PatchSize = patch, Stride = stride, Padding = 0, Rounds = 1, Backend = Backend };
        var fit = () => new ConvolutionalRfm(options).Fit(Images(4), Targets(4));
        fit.Should().Throw<ArgumentException>().WithMessage($"PatchSize {patch} does not fit the 6 x 6 images padded by 0 on each side (6 x 6)*").Which.ParamName.Should().Be("PatchSize");
        ((Action)(() => Images(1).Patches(patch, stride, 0, false))).Should().Throw<ArgumentException>().WithMessage($"PatchSize {patch} does not fit*");
    }

    [Fact]
    public void APatchAsLargeAsThePaddedImageHasOnePosition()
    {
        Images(3).Patches(6, 2, 0, false).Should().HaveCount(1);
        Images(3).Patches(8, 3, 1, false).Should().HaveCount(1);
        var model = new ConvolutionalRfm(new ConvRfmOptions { PatchSize = 6, Stride = 2, Padding = 0, Rounds = 1, Backend = Backend }).Fit(Images(4), Targets(4));
        model.FeatureMatrix.RowCount.Should().Be(36);
    }

    [Fact]
    public void ADeepLayerWhosePatchDoesNotFitItsInputIsRejectedBeforeAnyLayerIsFitted()
    {
        // Layer 0 (3 x 3, padding 1, stride 2) maps 6 x 6 images to 3 x 3 feature maps; a 5 x 5 patch at stride 2 does not fit them.
        var rounds = 0;
        var deep = new DeepConvRfm(new DeepConvRfmOptions
        {
            Layers = [new ConvRfmOptions { Stride = 2, Padding = 1, Rounds = 1, Backend = Backend }, new ConvRfmOptions { PatchSize = 5, Stride = 2, Padding = 0, Rounds = 1, Backend = Backend }],
            Filters = 2,
        });
        var fit = () => deep.Fit(Images(4), Targets(4), progress: new Counter(() => rounds++));
        fit.Should().Throw<ArgumentException>().WithMessage("PatchSize 5 does not fit the 3 x 3 images*").Which.ParamName.Should().Be("PatchSize");
        rounds.Should().Be(0);
    }

    [Fact]
    public void HugePaddingIsRejectedByTheDefaultBudgetBeforeAllocating()
    {
        // 6 x 6 images padded by 50: 104 x 104 = 10,816 patch positions; one image's all-pairs kernel block against 500 images alone is 468 GB.
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var fit = () => new ConvolutionalRfm(new ConvRfmOptions { Padding = 50, Rounds = 1, Backend = Backend }).Fit(Images(500), Targets(500));
        fit.Should().Throw<InsufficientMemoryException>()
            .WithMessage("ConvRFM on 500 images of 104 x 104 = 10816 patch positions would allocate an estimated 437 GiB (469243344000 bytes), above the memory budget of *ConvRfmOptions.MemoryBudgetBytes*");
        (GC.GetTotalAllocatedBytes(precise: true) - before).Should().BeLessThan(64L << 20, "the check comes before the patches are extracted");
    }

    [Fact]
    public void TheMessageStatesTheEstimateAndAnExplicitBudget()
    {
        // n = 10, P = 10,816, d = 9, c = 2: patches 2·10·P·9 + centres 10·P·9 + K 10² + spread 10·P·2, and the one-image
        // all-pairs block P × (10·P + 10) = 1,169,966,720 elements: 1,173,103,460 doubles.
        var options = new ConvRfmOptions { Padding = 50, Rounds = 1, MemoryBudgetBytes = 1L << 30, Backend = Backend };
        var fit = () => new ConvolutionalRfm(options).Fit(Images(10), Targets(10));
        fit.Should().Throw<InsufficientMemoryException>().WithMessage("*an estimated 8.7 GiB (9384827680 bytes), above the memory budget of 1 GiB (1073741824 bytes*");

        var deep = new DeepConvRfm(new DeepConvRfmOptions { Layers = [new ConvRfmOptions { Backend = Backend }, options], Filters = 2 });
        ((Action)(() => deep.Fit(Images(10), Targets(10)))).Should().Throw<InsufficientMemoryException>().WithMessage("Deep ConvRFM layer 1 on 10 images of 2 x 6 x 6 (104 x 104 patch positions) would allocate an estimated*");
        ((Action)(() => new ConvolutionalRfm(options with { MemoryBudgetBytes = 0 }))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("MemoryBudgetBytes");
    }

    [Fact]
    public void ASinglePrecisionFitCountsFourBytesAnElement()
    {
        // The fit of TheMessageStatesTheEstimateAndAnExplicitBudget in float: the same 1,173,103,460 elements, 4 bytes each.
        var options = new ConvRfmOptions { Padding = 50, Rounds = 1, MemoryBudgetBytes = 1L << 30, Backend = Backend };
        var fit = () => new ConvolutionalRfm(options).Fit(Images(10), Targets(10).Map(v => (float)v));
        fit.Should().Throw<InsufficientMemoryException>().WithMessage($"*an estimated 4.4 GiB ({1_173_103_460L * sizeof(float)} bytes), above the memory budget of 1 GiB*");

        // A budget between the two estimates passes the float fit's check and stops the double one's.
        var between = options with { MemoryBudgetBytes = 6L << 30 };
        ((Action)(() => new ConvolutionalRfm(between).Fit(Images(10), Targets(10)))).Should().Throw<InsufficientMemoryException>();
        ConvRfmMemory.Check(ConvRfmMemory.FitBytes<float>(PatchLayout.For(between, Images(10)), between, 10, 2, 0), between, "The float fit");
    }

    [Fact]
    public void ASmallFitPassesItsBudgetAndATinyBudgetStopsIt()
    {
        var options = new ConvRfmOptions { Rounds = 1, Backend = Backend };
        new ConvolutionalRfm(options with { MemoryBudgetBytes = 1L << 20 }).Fit(Images(4), Targets(4)).History.Should().HaveCount(1);
        ((Action)(() => new ConvolutionalRfm(options with { MemoryBudgetBytes = 1000 }).Fit(Images(4), Targets(4)))).Should().Throw<InsufficientMemoryException>();
    }

    [Fact]
    public void DeepFeatureMatricesAreCopies()
    {
        var model = new DeepConvRfm(new DeepConvRfmOptions
        {
            Layers = [new ConvRfmOptions { Rounds = 2, Backend = Backend }, new ConvRfmOptions { Rounds = 1, Backend = Backend }],
            Filters = 2,
        }).Fit(Images(6), Targets(6));
        var predictions = model.Predict(Images(6));
        var snapshot = model.FeatureMatrices.Select(m => m.Clone()).ToArray();
        snapshot[0].Should().NotBe(Matrix<double>.Build.DenseIdentity(9));
        foreach (var m in model.FeatureMatrices)
        {
            m.Clear();
        }

        var mutated = model.FeatureMatrices[0];
        mutated[1, 1] = -5;
        model.FeatureMatrices.Zip(snapshot).Should().OnlyContain(pair => pair.First.Equals(pair.Second));
        model.Predict(Images(6)).Should().Be(predictions);
    }

    private sealed class Counter(Action onReport) : IProgress<DeepConvRfmIteration>
    {
        public void Report(DeepConvRfmIteration value) => onReport();
    }
}
