namespace FeatureLearning.ConvRfm;

/// <summary>How images are cut into patches: size, stride, padding, and the image shape they apply to.</summary>
internal sealed record PatchLayout(int PatchSize, int Stride, int Padding, bool Circular, int Channels, int Height, int Width)
{
    public int Dimension => Channels * PatchSize * PatchSize;

    /// <summary>Rows of the grid of patch positions (the height of a feature map).</summary>
    public int OutputHeight => ((Height + (2 * Padding) - PatchSize) / Stride) + 1;

    /// <summary>Columns of the grid of patch positions.</summary>
    public int OutputWidth => ((Width + (2 * Padding) - PatchSize) / Stride) + 1;

    public static PatchLayout For(ConvRfmOptions options, ImageBatch images)
        => new(options.PatchSize, options.Stride, options.Padding ?? (options.PatchSize / 2), options.CircularPadding, images.Channels, images.Height, images.Width);

    /// <summary>The patches of <paramref name="images"/> in both layouts.</summary>
    public PatchSet Set(ImageBatch images) => new(Extract(images), images.Count, Dimension);

    public double[][] Extract(ImageBatch images)
    {
        if (images.Channels != Channels || images.Height != Height || images.Width != Width)
        {
            throw new ArgumentException($"Expected {Channels} x {Height} x {Width} images but got {images.Channels} x {images.Height} x {images.Width}.", nameof(images));
        }

        return images.Patches(PatchSize, Stride, Padding, Circular);
    }
}
