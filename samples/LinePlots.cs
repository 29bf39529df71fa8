using System.Globalization;

namespace FeatureLearning.Samples;

/// <summary>Line plots (PNG, ScottPlot) and the JSON number format the samples share.</summary>
internal static class LinePlots
{
    /// <summary>A finite number in round-trip form, null otherwise.</summary>
    public static string Json(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "null";

    /// <summary>Saves one line per series (no markers) with a legend; returns the path.</summary>
    public static string SaveLines(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] X, double[] Y)> series)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (label, x, y) in series)
        {
            var s = plot.Add.Scatter(x, y);
            s.LegendText = label;
            s.MarkerSize = 0;
        }

        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
        plot.SavePng(path, 800, 500);
        return path;
    }

    /// <summary>The JSON line that names a written plot.</summary>
    public static string PlotLine(string path) => $"{{\"plot\":\"{Path.GetFullPath(path).Replace("\\", "\\\\", StringComparison.Ordinal)}\"}}";
}
