using System.Runtime.InteropServices;
using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Tests.Compute;

public unsafe class LowerRankUpdateTests
{
    [SkippableTheory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(8, 300)]
    [InlineData(9, 257)]
    [InlineData(23, 64)]
    [InlineData(24, 600)]
    [InlineData(33, 31)]
    [InlineData(61, 513)]
    [InlineData(122, 732)]
    [InlineData(3, 300)]
    [InlineData(4, 9)]
    [InlineData(12, 40)]
    [InlineData(100, 300)]
    [InlineData(124, 70)]
    [InlineData(140, 33)]
    [InlineData(20, 50)]
    [InlineData(58, 41)]
    [InlineData(75, 19)]
    public void AddsTheLowerTriangleOfRRTransposeAndLeavesTheRest(int d, int k)
    {
        // Shapes that end in partial tiles, panels and depth blocks (Depth = 256), in both precisions, against a direct
        // triple loop; the strictly upper triangle and the padding beyond d columns must keep their values. A last tile row
        // of at most four rows (d = 3, 4, 12, 100, 122, 124, 140: one to four rows, one to more than six panels) takes the
        // short tile (in single precision also with the tile row starting half-way into a 16-row panel: d = 12, 58, 75, 122,
        // 124, 140), and is checked again computed as eight rows, which must give the same bits (the same products in the
        // same order; the short tile leaves out only the padding rows).
        Skip.IfNot(LowerRankUpdate<double>.Supported, "the update needs AVX-512");
        var shortDouble = Check<double>(d, k, 1e-12);
        var shortSingle = Check<float>(d, k, 1e-5);
        if (d % 8 is > 0 and <= LowerRankUpdate<double>.ShortRows)
        {
            LowerRankUpdate<double>.EightRowEdgesOnThisThread = true;
            LowerRankUpdate<float>.EightRowEdgesOnThisThread = true;
            try
            {
                Check<double>(d, k, 1e-12).Should().Equal(shortDouble, "the short tile and the eight-row one give the same bits");
                Check<float>(d, k, 1e-5).Should().Equal(shortSingle, "the short tile and the eight-row one give the same bits");
            }
            finally
            {
                LowerRankUpdate<double>.EightRowEdgesOnThisThread = null;
                LowerRankUpdate<float>.EightRowEdgesOnThisThread = null;
            }
        }
    }

    private static T[] Check<T>(int d, int k, double tolerance)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random((31 * d) + k);
        int ldr = k + 3, ldh = d + 2;
        var r = Enumerable.Range(0, d * ldr).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var h0 = Enumerable.Range(0, d * ldh).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var rt = r.Select(T.CreateTruncating).ToArray();
        var ht = h0.Select(T.CreateTruncating).ToArray();
        T* scratch = (T*)NativeMemory.AlignedAlloc((nuint)(LowerRankUpdate<T>.ScratchLength(d) * sizeof(T)), 64);
        try
        {
            fixed (T* rp = rt, hp = ht)
            {
                LowerRankUpdate<T>.Add(rp, d, k, ldr, hp, ldh, scratch);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(scratch);
        }

        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < ldh; j++)
            {
                double actual = double.CreateTruncating(ht[(i * ldh) + j]);
                double original = double.CreateTruncating(T.CreateTruncating(h0[(i * ldh) + j]));
                if (j > i)
                {
                    actual.Should().Be(original, $"H[{i}, {j}] is above the diagonal or past d ({d} x {k})");
                    continue;
                }

                double sum = 0, scale = 0;
                for (int q = 0; q < k; q++)
                {
                    double a = double.CreateTruncating(rt[(i * ldr) + q]), b = double.CreateTruncating(rt[(j * ldr) + q]);
                    sum += a * b;
                    scale += Math.Abs(a * b);
                }

                actual.Should().BeApproximately(original + sum, tolerance * (1 + scale), $"H[{i}, {j}] ({d} x {k})");
            }
        }

        return ht;
    }
}
