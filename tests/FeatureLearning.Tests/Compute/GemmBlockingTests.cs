using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Tests.Compute;

public class GemmBlockingTests
{
    [Fact]
    public void TheRuleGivesTheFormerFixedDepthOnA48KiBL1()
    {
        // 48 KiB L1d, 1 MiB L2, AVX-512 tiles 8 x 24 (double) and 8 x 48 (single): KC 256 (the former fixed depth); a tenth of
        // L2 holds 51 rows of 256 doubles (48 after rounding to the tile) or 102 rows of floats (96).
        GemmBlocking.FromCaches(48 * 1024, 1024 * 1024, 8, 8, 24).Should().Be(new GemmBlocking(256, 48, 3072));
        GemmBlocking.FromCaches(48 * 1024, 1024 * 1024, 4, 8, 48).Should().Be(new GemmBlocking(256, 96, 3072));
    }

    [Fact]
    public void ASmallerL1GivesAShallowerBlock()
    {
        // Zen 4: 32 KiB L1d. One NR-wide row of the B panel is 192 bytes, so KC = 32768 / 192 = 170, rounded down to 168.
        var zen4 = GemmBlocking.FromCaches(32 * 1024, 1024 * 1024, 8, 8, 24);
        zen4.Kc.Should().Be(168);
        zen4.Mc.Should().Be(72, "a tenth of L2 holds 78 rows of 168 doubles, rounded down to the tile's 8");
    }

    [Theory]
    [InlineData("32K", 32 * 1024)]
    [InlineData("1024K", 1024 * 1024)]
    [InlineData("32M", 32 * 1024 * 1024)]
    [InlineData("512", 512)]
    [InlineData("abc", 0)]
    [InlineData("4096M", 0)]
    [InlineData("99999999999K", 0)]
    public void ParsesSysfsSizes(string text, int bytes) => GemmBlocking.ParseSize(text).Should().Be(bytes);

    [Fact]
    public void TheOverrideRoundsToTheTileAndRefusesNonsense()
    {
        GemmBlocking.Parse("200, 100, 3000", 8, 24).Should().Be(new GemmBlocking(200, 104, 3000));
        GemmBlocking.Parse(null, 8, 24).Should().BeNull();
        GemmBlocking.Parse(" ", 8, 24).Should().BeNull();
        var bad = () => GemmBlocking.Parse("256,96", 8, 24);
        bad.Should().Throw<InvalidOperationException>().WithMessage("*FEATURELEARNING_GEMM_BLOCKING*KC,MC,NC*");
        var negative = () => GemmBlocking.Parse("256,-1,3072", 8, 24);
        negative.Should().Throw<InvalidOperationException>();
        var huge = () => GemmBlocking.Parse("16384,8,24", 8, 24);
        huge.Should().Throw<InvalidOperationException>("a block of 16384² elements is refused, not allocated");
    }
}
