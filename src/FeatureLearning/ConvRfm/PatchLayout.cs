namespace FeatureLearning.ConvRfm;

/// <summary>How images are cut into patches: size, stride, padding, and the image shape they apply to.</summary>
internal sealed record PatchLayout(int PatchSize, int Stride, int Padding, bool Circular, int Channels, int Height, int Width)
{
    public int Dimension => Channels * PatchSize * PatchSize;

    public static PatchLayout For(ConvRfmOptions options, ImageBatch images)
        => new(options.PatchSize, options.Stride, options.Padding ?? (options.PatchSize / 2), options.CircularPadding, images.Channels, images.Height, images.Width);

    public double[][] Extract(ImageBatch images)
    {
        if (images.Channels != Channels || images.Height != Height || images.Width != Width)
        {
            throw new ArgumentException($"Expected {Channels} x {Height} x {Width} images but got {images.Channels} x {images.Height} x {images.Width}.", nameof(images));
        }

        return images.Patches(PatchSize, Stride, Padding, Circular);
    }
}
