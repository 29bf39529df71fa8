using System.Numerics;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// The q × q patches of a batch of n images on the host, in the element type <typeparamref name="T"/> of the computation
/// and in the two layouts the kernels use: one n × d matrix per patch position (im2col, for the aligned form) and one
/// (n·P) × d image-major matrix, row i·P + p the patch p of image i (for the all-pairs form). Immutable.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
internal sealed class PatchSet<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[]? imageMajor;

    public PatchSet(T[][] perPosition, int count, int dimension)
    {
        PerPosition = perPosition;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>P matrices n × d, one per patch position.</summary>
    public T[][] PerPosition { get; }

    /// <summary>Number of images n.</summary>
    public int Count { get; }

    /// <summary>Patch dimension d = C·q².</summary>
    public int Dimension { get; }

    /// <summary>Number of patch positions P.</summary>
    public int Positions => PerPosition.Length;

    /// <summary>The (n·P) × d image-major matrix (built on first use).</summary>
    public T[] ImageMajor => imageMajor ??= BuildImageMajor();

    /// <summary>The patches cut from the (double) images, converted once to <typeparamref name="T"/> (no copy for double).</summary>
    public static PatchSet<T> From(double[][] perPosition, int count, int dimension) =>
        new(perPosition.Select(Convert).ToArray(), count, dimension);

    /// <summary>The values in <typeparamref name="T"/> (the same array for double, rounded to nearest for float).</summary>
    public static T[] Convert(double[] values)
    {
        if (values is T[] same)
        {
            return same;
        }

        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = T.CreateTruncating(values[i]);
        }

        return result;
    }

    /// <summary>The patches of the images <paramref name="indices"/>, in that order.</summary>
    public PatchSet<T> Subset(IReadOnlyList<int> indices)
    {
        int d = Dimension;
        var positions = PerPosition.Select(p =>
        {
            var sub = new T[indices.Count * d];
            for (int k = 0; k < indices.Count; k++)
            {
                Array.Copy(p, indices[k] * d, sub, k * d, d);
            }

            return sub;
        }).ToArray();
        return new PatchSet<T>(positions, indices.Count, d);
    }

    private T[] BuildImageMajor()
    {
        int n = Count, d = Dimension, positions = Positions;
        var all = new T[(long)n * positions * d];
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
