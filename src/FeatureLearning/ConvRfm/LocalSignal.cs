using FeatureLearning.Data;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// The "local signal" task: each small image (e.g. an 8 × 8 digit) is pasted at a seeded random position into a larger
/// frame of Gaussian noise, so the label depends on a local pattern at an unknown place.
/// </summary>
/// <remarks>
/// The digit replaces the frame's pixels where it lands (it is pasted, not added): the signal is clean and every
/// other pixel is N(0, σ²) noise, as in the local-signal tasks of Karp et al. (2021), "Local signal adaptivity: provable
/// feature learning in neural networks beyond kernels".
/// </remarks>
public static class LocalSignal
{
    /// <summary>Builds the framed images.</summary>
    /// <param name="source">Single-channel images (n × 1 × h × w) with values roughly in [0, 1].</param>
    /// <param name="frame">The frame size F ≥ max(h, w).</param>
    /// <param name="noise">Standard deviation σ of the background noise.</param>
    /// <param name="seed">Seed of positions and noise.</param>
    /// <returns>n × 1 × F × F images.</returns>
    public static ImageBatch Create(ImageBatch source, int frame, double noise, int seed)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Channels != 1 || frame < source.Height || frame < source.Width)
        {
            throw new ArgumentException($"Need single-channel images no larger than the {frame} x {frame} frame.", nameof(source));
        }

        Validation.NonNegativeFinite(noise, nameof(noise), "noise level");
        var rng = new Random(seed);
        var normal = new MathNet.Numerics.Distributions.Normal(0, 1, rng);
        var pixels = new double[source.Count * frame * frame];
        for (int i = 0; i < source.Count; i++)
        {
            int oy = rng.Next(frame - source.Height + 1), ox = rng.Next(frame - source.Width + 1);
            int o = i * frame * frame;
            for (int p = 0; p < frame * frame; p++)
            {
                pixels[o + p] = noise * normal.Sample();
            }

            for (int y = 0; y < source.Height; y++)
            {
                for (int x = 0; x < source.Width; x++)
                {
                    pixels[o + ((oy + y) * frame) + ox + x] = source[i, 0, y, x];
                }
            }
        }

        return new ImageBatch(source.Count, 1, frame, frame, pixels);
    }

    /// <summary>The digits of a <see cref="LabeledDataSet"/> of 8 × 8 images (64 pixel columns, 0–16) as a batch scaled to [0, 1].</summary>
    /// <param name="digits">The digits data set.</param>
    /// <returns>n × 1 × 8 × 8 images.</returns>
    public static ImageBatch Digits(LabeledDataSet digits)
    {
        ArgumentNullException.ThrowIfNull(digits);
        return ImageBatch.FromRows(digits.Features / 16.0, 1, 8, 8);
    }
}
