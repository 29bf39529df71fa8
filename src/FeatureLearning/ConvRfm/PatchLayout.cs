namespace FeatureLearning.ConvRfm;

/// <summary>How images are cut into patches: size, stride, padding, and the image shape they apply to.</summary>
internal sealed record PatchLayout(int PatchSize, int Stride, int Padding, bool Circular, int Channels, int Height, int Width)
{
    public int Dimension => Channels * PatchSize * PatchSize;

    /// <summary>Rows of the grid of patch positions (the height of a feature map).</summary>
    public int OutputHeight => ((Height + (2 * Padding) - PatchSize) / Stride) + 1;

    /// <summary>Columns of the grid of patch positions.</summary>
    public int OutputWidth => ((Width + (2 * Padding) - PatchSize) / Stride) + 1;

    /// <summary>The layout of <paramref name="options"/> on images of <paramref name="images"/>' shape.</summary>
    /// <exception cref="ArgumentException">The patch is larger than the padded image (named <c>PatchSize</c>).</exception>
    public static PatchLayout For(ConvRfmOptions options, ImageBatch images) => For(options, images.Channels, images.Height, images.Width);

    /// <summary>The layout of <paramref name="options"/> on C × H × W images.</summary>
    /// <exception cref="ArgumentException">The patch is larger than the padded image (named <c>PatchSize</c>).</exception>
    public static PatchLayout For(ConvRfmOptions options, int channels, int height, int width)
    {
        int padding = options.Padding ?? (options.PatchSize / 2);
        CheckFits(options.PatchSize, padding, height, width, nameof(ConvRfmOptions.PatchSize));
        return new(options.PatchSize, options.Stride, padding, options.CircularPadding, channels, height, width);
    }

    /// <summary>
    /// Throws unless a q × q patch fits the image padded by <paramref name="padding"/> on each side. Checked before the
    /// output size is computed: with a stride of 2 or more the truncating division would turn a patch one pixel too large
    /// into one position.
    /// </summary>
    public static void CheckFits(int q, int padding, int height, int width, string name)
    {
        if (height + (2L * padding) < q || width + (2L * padding) < q)
        {
            throw new ArgumentException(
                $"PatchSize {q} does not fit the {height} x {width} images padded by {padding} on each side ({height + (2L * padding)} x {width + (2L * padding)}): use a smaller patch or more padding.",
                name);
        }
    }

    /// <summary>The patches of <paramref name="images"/> in both layouts.</summary>
    public PatchSet<T> Set<T>(ImageBatch images)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => PatchSet<T>.From(Extract(images), images.Count, Dimension);

    public double[][] Extract(ImageBatch images)
    {
        if (images.Channels != Channels || images.Height != Height || images.Width != Width)
        {
            throw new ArgumentException($"Expected {Channels} x {Height} x {Width} images but got {images.Channels} x {images.Height} x {images.Width}.", nameof(images));
        }

        return images.Patches(PatchSize, Stride, Padding, Circular);
    }
}
