namespace FeatureLearning.Plotting;

/// <summary>
/// A plot ready to be saved or shown: a ScottPlot <see cref="ScottPlot.Plot"/> (exposed for further styling) with a
/// default size. Dispose it when done (the plot holds native drawing resources; the finalizer frees them otherwise).
/// </summary>
public sealed class Figure : IDisposable
{
    internal Figure(ScottPlot.Plot plot, int width, int height)
    {
        Plot = plot;
        Width = width;
        Height = height;
    }

    /// <summary>The ScottPlot plot, to restyle before saving.</summary>
    public ScottPlot.Plot Plot { get; }

    /// <summary>Default width in pixels.</summary>
    public int Width { get; }

    /// <summary>Default height in pixels.</summary>
    public int Height { get; }

    /// <summary>Writes a PNG file.</summary>
    /// <param name="path">The file to write (its folder must exist).</param>
    /// <param name="width">Width in pixels; the figure's default when null.</param>
    /// <param name="height">Height in pixels; the figure's default when null.</param>
    /// <returns>The full path written.</returns>
    public string SavePng(string path, int? width = null, int? height = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Plot.SavePng(path, width ?? Width, height ?? Height);
        return Path.GetFullPath(path);
    }

    /// <summary>The PNG image as bytes.</summary>
    /// <param name="width">Width in pixels; the figure's default when null.</param>
    /// <param name="height">Height in pixels; the figure's default when null.</param>
    /// <returns>The PNG file's bytes.</returns>
    public byte[] ToPng(int? width = null, int? height = null) => Plot.GetImageBytes(width ?? Width, height ?? Height, ScottPlot.ImageFormat.Png);

    /// <summary>Releases the plot's native drawing resources.</summary>
    public void Dispose() => Plot.Dispose();

    /// <summary>An HTML &lt;img&gt; element holding the PNG inline (base64), as notebooks display it.</summary>
    /// <returns>The element.</returns>
    public string ToHtml() => $"<img src=\"data:image/png;base64,{Convert.ToBase64String(ToPng())}\" width=\"{Width}\" height=\"{Height}\" />";
}
