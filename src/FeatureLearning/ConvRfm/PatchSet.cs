namespace FeatureLearning.ConvRfm;

/// <summary>
/// The q × q patches of a batch of n images on the host, in the two layouts the kernels use: one n × d matrix per patch
/// position (im2col, for the aligned form) and one (n·P) × d image-major matrix, row i·P + p the patch p of image i (for
/// the all-pairs form). Immutable.
/// </summary>
internal sealed class PatchSet
{
    private double[]? imageMajor;

    public PatchSet(double[][] perPosition, int count, int dimension)
    {
        PerPosition = perPosition;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>P matrices n × d, one per patch position.</summary>
    public double[][] PerPosition { get; }

    /// <summary>Number of images n.</summary>
    public int Count { get; }

    /// <summary>Patch dimension d = C·q².</summary>
    public int Dimension { get; }

    /// <summary>Number of patch positions P.</summary>
    public int Positions => PerPosition.Length;

    /// <summary>The (n·P) × d image-major matrix (built on first use).</summary>
    public double[] ImageMajor => imageMajor ??= BuildImageMajor();

    /// <summary>The patches of the images <paramref name="indices"/>, in that order.</summary>
    public PatchSet Subset(IReadOnlyList<int> indices)
    {
        int d = Dimension;
        var positions = PerPosition.Select(p =>
        {
            var sub = new double[indices.Count * d];
            for (int k = 0; k < indices.Count; k++)
            {
                Array.Copy(p, indices[k] * d, sub, k * d, d);
            }

            return sub;
        }).ToArray();
        return new PatchSet(positions, indices.Count, d);
    }

    private double[] BuildImageMajor()
    {
        int n = Count, d = Dimension, positions = Positions;
        var all = new double[(long)n * positions * d];
        for (int p = 0; p < positions; p++)
        {
            var source = PerPosition[p];
            for (int i = 0; i < n; i++)
            {
                Array.Copy(source, i * d, all, ((long)((i * positions) + p)) * d, d);
            }
        }

        return all;
    }
}
