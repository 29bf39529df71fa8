using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// A batch of n images of C channels and H × W pixels, stored row-major as n × C × H × W: pixel (c, y, x) of image i is
/// at index ((i·C + c)·H + y)·W + x. Immutable.
/// </summary>
public sealed class ImageBatch
{
    private readonly double[] pixels;

    /// <summary>Creates a batch from pixels in the documented layout (copied).</summary>
    /// <param name="count">n.</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="pixels">n·C·H·W finite values.</param>
    /// <exception cref="ArgumentException">The length does not match, or a value is not finite.</exception>
    public ImageBatch(int count, int channels, int height, int width, IReadOnlyList<double> pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentNullException.ThrowIfNull(pixels);
        if ((long)count * channels * height * width != pixels.Count)
        {
            throw new ArgumentException($"{pixels.Count} pixels given for {count} x {channels} x {height} x {width} images.", nameof(pixels));
        }

        this.pixels = pixels.ToArray();
        if (this.pixels.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("The pixels must be finite (no NaN or infinity).", nameof(pixels));
        }

        (Count, Channels, Height, Width) = (count, channels, height, width);
    }

    /// <summary>The pixels in the documented layout (no copy).</summary>
    internal ReadOnlySpan<double> Pixels => pixels;

    /// <summary>Number of images n.</summary>
    public int Count { get; }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>Height H.</summary>
    public int Height { get; }

    /// <summary>Width W.</summary>
    public int Width { get; }

    /// <summary>Pixel (c, y, x) of image i.</summary>
    /// <param name="i">Image.</param>
    /// <param name="c">Channel.</param>
    /// <param name="y">Row.</param>
    /// <param name="x">Column.</param>
    public double this[int i, int c, int y, int x] => pixels[((((i * Channels) + c) * Height) + y) * Width + x];

    /// <summary>Images from the rows of a matrix (each row C·H·W pixels in channel, row, column order).</summary>
    /// <param name="rows">n × (C·H·W).</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <returns>The batch.</returns>
    public static ImageBatch FromRows(Matrix<double> rows, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.ColumnCount != channels * height * width)
        {
            throw new ArgumentException($"Each row must hold {channels * height * width} pixels but holds {rows.ColumnCount}.", nameof(rows));
        }

        return new ImageBatch(rows.RowCount, channels, height, width, rows.ToRowMajorArray());
    }

    /// <summary>The images as rows of a matrix (n × C·H·W).</summary>
    /// <returns>A new matrix.</returns>
    public Matrix<double> ToRows() => Matrix<double>.Build.DenseOfRowMajor(Count, Channels * Height * Width, pixels);

    /// <summary>The images at the given indices.</summary>
    /// <param name="indices">Image indices.</param>
    /// <returns>A new batch.</returns>
    public ImageBatch Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int size = Channels * Height * Width;
        var data = new double[indices.Count * size];
        for (int k = 0; k < indices.Count; k++)
        {
            Array.Copy(pixels, indices[k] * size, data, k * size, size);
        }

        return new ImageBatch(indices.Count, Channels, Height, Width, data);
    }

    /// <summary>
    /// The q × q patches at every position (stride s) as an im2col layout: one n × (C·q²) row-major matrix per patch position
    /// p (P positions in all), each row a patch in (channel, row, column) order. Out-of-range pixels are zero
    /// (<paramref name="circular"/> false) or wrap around (true); with padding q/2 and stride 1 there is one patch per pixel.
    /// </summary>
    /// <param name="q">Patch size.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="padding">Padding on each side.</param>
    /// <param name="circular">Wrap around instead of zero padding.</param>
    /// <returns>The P patch matrices.</returns>
    /// <exception cref="ArgumentException">The patch is larger than the padded image (checked before the stride divides the size).</exception>
    public double[][] Patches(int q, int stride, int padding, bool circular)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        PatchLayout.CheckFits(q, padding, Height, Width, nameof(q));
        int outH = ((Height + (2 * padding) - q) / stride) + 1, outW = ((Width + (2 * padding) - q) / stride) + 1;

        int d = Channels * q * q;
        var result = new double[outH * outW][];
        for (int py = 0; py < outH; py++)
        {
            for (int px = 0; px < outW; px++)
            {
                var patch = new double[Count * d];
                for (int i = 0; i < Count; i++)
                {
                    int o = i * d;
                    for (int c = 0; c < Channels; c++)
                    {
                        for (int dy = 0; dy < q; dy++)
                        {
                            for (int dx = 0; dx < q; dx++)
                            {
                                int y = (py * stride) + dy - padding, x = (px * stride) + dx - padding;
                                bool inside = y >= 0 && y < Height && x >= 0 && x < Width;
                                patch[o++] = inside ? this[i, c, y, x]
                                    : circular ? this[i, c, ((y % Height) + Height) % Height, ((x % Width) + Width) % Width]
                                    : 0.0;
                            }
                        }
                    }
                }

                result[(py * outW) + px] = patch;
            }
        }

        return result;
    }
}
