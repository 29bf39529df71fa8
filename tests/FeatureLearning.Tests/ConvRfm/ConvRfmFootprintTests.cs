using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.ConvRfm;
using FeatureLearning.Rfm;
using FeatureLearning.Tests.Compute;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.ConvRfm;

/// <summary>
/// What an all-pairs ConvRFM fit holds on the backend and moves between host and backend, counted by a
/// <see cref="PeakTrackingBackend"/>: the patches cross once per fit, a round moves only its n × c and d × d terms (the same
/// whether the kernel and the AGOP are formed in one block or several, so no kernel block crosses), and the peak grows with
/// the number of outputs c by exactly the c-proportional buffers.
/// </summary>
public sealed class ConvRfmFootprintTests
{
    // 8 images of 6 × 6, 3 × 3 patches padded to P = 36 positions of d = 9; n·P = 288 patch rows.
    private const int N = 8, Positions = 36, D = 9, PatchRows = N * Positions;

    // One block: 2^24 elements. Several: 3 images' patch rows against all of them (36·3 × 288 = 31,104 elements), so the
    // kernel is formed in blocks of 3, 3 and 2 images and the AGOP in blocks of 108, 108 and 72 patch rows.
    private const long OneBlock = 1L << 24, ThreeImages = 3L * Positions * PatchRows;

    private static readonly ManagedBackend Backend = new();

    [Fact]
    public void PatchesCrossOnceAndARoundMovesOnlyItsSmallTerms()
    {
        foreach (int c in new[] { 1, 8 })
        {
            var rounds2 = Footprint<double>(c, ThreeImages, 2);
            var rounds3 = Footprint<double>(c, ThreeImages, 3);

            // Blocking moves nothing more: no kernel block (3·36 × 288) nor K (8 × 8) goes to the host and back.
            Footprint<double>(c, OneBlock, 2).Moved.Should().Be(rounds2.Moved);
            Footprint<double>(c, OneBlock, 3).Moved.Should().Be(rounds3.Moved);

            // One more round with an AGOP: fewer elements than one upload of the patches (n·P·d), which the whole fit
            // needs once (the training patches are all it uploads beyond the per-round terms).
            long round = rounds3.Moved - rounds2.Moved;
            round.Should().BeLessThan((long)PatchRows * D);
            rounds2.Moved.Should().BeGreaterThanOrEqualTo((long)PatchRows * D);
            (rounds2.Moved - (2 * round)).Should().BeLessThan((long)PatchRows * D);
        }

        // Per round the outputs add Y up and α down (n × c each), nothing else.
        long Round(int c) => Footprint<double>(c, ThreeImages, 3).Moved - Footprint<double>(c, ThreeImages, 2).Moved;
        (Round(8) - Round(1)).Should().Be(2L * 7 * N);
    }

    [Theory]
    [InlineData(OneBlock, PatchRows)]
    [InlineData(ThreeImages, 108)]
    public void ThePeakGrowsWithTheOutputsOnlyByTheOutputSizedBuffers(long block, int agopRows)
    {
        // The c-proportional buffers live at the peak (the AGOP): α (n × c), the spread coefficients α/P² (n·P × c) and
        // S = W'α of one AGOP block (rows × c). The kernel blocks, derivative weights and patches do not depend on c.
        // One output reads S off the AGOP's gradient GEMM with buffers of its own (AgopEngine.FoldCoefficients): the growth
        // with c is measured from c = 1 without that fold.
        long perOutput = N + PatchRows + agopRows;
        AgopEngine.FoldCoefficients = false;
        long peak1;
        try
        {
            peak1 = Footprint<double>(1, block, 2).Peak;
        }
        finally
        {
            AgopEngine.FoldCoefficients = null;
        }

        (Footprint<double>(8, block, 2).Peak - peak1).Should().Be(7 * perOutput);

        // Single precision holds and moves the same numbers of elements.
        Footprint<float>(8, block, 2).Should().Be(Footprint<double>(8, block, 2));
    }

    private static (long Peak, long Moved) Footprint<T>(int c, long block, int rounds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new ImageBatch(N, 1, 6, 6, Random(1, N * 36, seed: 7));
        var y = Matrix<T>.Build.DenseOfRowMajor(N, c, Random(N, c, 8).Select(T.CreateTruncating).ToArray());
        var tracker = new PeakTrackingBackend(Backend);
        var model = new ConvolutionalRfm(new ConvRfmOptions { Rounds = rounds, MaxBlockElements = block, Backend = tracker }).Fit(x, y);
        model.History.Should().HaveCount(rounds);
        return (tracker.PeakElements, tracker.TransferredElements);
    }
}
