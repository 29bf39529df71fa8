using FeatureLearning.Diagnostics;
using FeatureLearning.Estimators;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Plotting;

/// <summary>The library's standard plots: each returns a <see cref="Figure"/> to save (<see cref="Figure.SavePng"/>) or show.</summary>
public static class Plots
{
    /// <summary>A heat map of a matrix (row 0 at the top), with a colour bar.</summary>
    /// <param name="matrix">The matrix, e.g. a learned metric M.</param>
    /// <param name="title">The title.</param>
    /// <param name="hideDiagonal">Draw the diagonal as 0: in a feature matrix it often dominates and hides the structure.</param>
    /// <returns>The figure.</returns>
    /// <exception cref="ArgumentException">An empty matrix, or one with a NaN or infinite entry.</exception>
    public static Figure HeatMap(Matrix<double> matrix, string title = "M", bool hideDiagonal = false)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.RowCount == 0 || matrix.ColumnCount == 0)
        {
            throw new ArgumentException("The matrix is empty.", nameof(matrix));
        }

        var data = matrix.ToArray();
        for (int i = 0; i < matrix.RowCount; i++)
        {
            for (int j = 0; j < matrix.ColumnCount; j++)
            {
                if (!double.IsFinite(data[i, j]))
                {
                    throw new ArgumentException($"Entry ({i}, {j}) is {data[i, j]}: a heat map needs finite values.", nameof(matrix));
                }
            }

            if (hideDiagonal && i < matrix.ColumnCount)
            {
                data[i, i] = 0;
            }
        }

        var plot = new ScottPlot.Plot();
        var heatmap = plot.Add.Heatmap(data);
        plot.Add.ColorBar(heatmap);
        plot.Title(title);
        plot.Axes.InvertY();
        return new Figure(plot, 640, 560);
    }

    /// <summary>The learned metric M of an RFM model as a heat map (its diagonal hidden, unless M is diagonal).</summary>
    /// <param name="model">The fitted model.</param>
    /// <returns>The figure.</returns>
    public static Figure FeatureMatrix(RfmModel<double> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var m = model.FeatureMatrix;

        // A diagonal M (RfmOptions.Diagonal, or round 0's identity) has nothing off the diagonal: show it whole.
        bool offDiagonal = false;
        for (int i = 0; i < m.RowCount && !offDiagonal; i++)
        {
            for (int j = 0; j < m.ColumnCount; j++)
            {
                if (i != j && m[i, j] != 0)
                {
                    offDiagonal = true;
                    break;
                }
            }
        }

        return offDiagonal
            ? HeatMap(m, $"M after round {model.SelectedIteration} (diagonal hidden)", hideDiagonal: true)
            : HeatMap(m, $"M after round {model.SelectedIteration} (diagonal)");
    }

    /// <summary>The learned metric M of a fitted classifier (in its standardised coordinates when it standardises).</summary>
    /// <typeparam name="TLabel">The label type.</typeparam>
    /// <param name="model">The fitted classifier.</param>
    /// <returns>The figure.</returns>
    /// <exception cref="InvalidOperationException">The classifier is kernel ridge (one round): it learned no M.</exception>
    public static Figure FeatureMatrix<TLabel>(FittedClassifier<TLabel> model)
        where TLabel : notnull
    {
        ArgumentNullException.ThrowIfNull(model);
        return FeatureMatrix(model.Rfm ?? throw new InvalidOperationException("This classifier is kernel ridge (Rounds = 1): it learned no M to plot."));
    }

    /// <summary>The learned metric M of a fitted regressor (in its standardised coordinates when it standardises).</summary>
    /// <param name="model">The fitted regressor.</param>
    /// <returns>The figure.</returns>
    /// <exception cref="InvalidOperationException">The regressor is kernel ridge (one round): it learned no M.</exception>
    public static Figure FeatureMatrix(FittedRegressor model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return FeatureMatrix(model.Rfm ?? throw new InvalidOperationException("This regressor is kernel ridge (Rounds = 1): it learned no M to plot."));
    }

    /// <summary>Per-round curves of an RFM fit: training and validation accuracy (when defined) and MSE (log scale).</summary>
    /// <param name="history">The rounds (<see cref="RfmModel{T}.History"/>).</param>
    /// <param name="selected">The selected round to mark, if any.</param>
    /// <returns>The figure.</returns>
    /// <exception cref="ArgumentException">No rounds.</exception>
    public static Figure History(IReadOnlyList<RfmIteration> history, int? selected = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0)
        {
            throw new ArgumentException("The history has no rounds.", nameof(history));
        }

        var plot = new ScottPlot.Plot();
        double[] rounds = history.Select(r => (double)r.Iteration).ToArray();
        bool accuracy = history.Any(r => double.IsFinite(r.TrainAccuracy));
        Add(plot, rounds, history.Select(r => accuracy ? r.TrainAccuracy : Math.Log10(r.TrainMse)).ToArray(), accuracy ? "train accuracy" : "log10 train MSE");
        if (history.Any(r => double.IsFinite(accuracy ? r.ValidationAccuracy : r.ValidationMse)))
        {
            Add(plot, rounds, history.Select(r => accuracy ? r.ValidationAccuracy : Math.Log10(r.ValidationMse)).ToArray(), accuracy ? "validation accuracy" : "log10 validation MSE");
        }

        if (selected is { } s)
        {
            var line = plot.Add.VerticalLine(s);
            line.LegendText = $"selected round {s}";
        }

        plot.Title("RFM rounds");
        plot.XLabel("round");
        plot.YLabel(accuracy ? "accuracy" : "log10 MSE");
        plot.ShowLegend();
        return new Figure(plot, 720, 440);
    }

    /// <summary>The history of a fitted RFM model, its selected round marked.</summary>
    /// <param name="model">The fitted model.</param>
    /// <returns>The figure.</returns>
    public static Figure History(RfmModel<double> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return History(model.History, model.SelectedIteration);
    }

    /// <summary>Eigenvalues in decreasing order against their rank (log scale of |λ| when <paramref name="logScale"/>).</summary>
    /// <param name="eigenvalues">The eigenvalues.</param>
    /// <param name="title">The title.</param>
    /// <param name="logScale">Plot log10 |λ| (zeros are left out).</param>
    /// <returns>The figure.</returns>
    public static Figure Spectrum(IEnumerable<double> eigenvalues, string title = "spectrum", bool logScale = true)
    {
        ArgumentNullException.ThrowIfNull(eigenvalues);
        var values = eigenvalues.Where(double.IsFinite).OrderByDescending(v => v).ToArray();
        if (values.Length == 0)
        {
            throw new ArgumentException("No finite eigenvalues to plot.", nameof(eigenvalues));
        }

        var plot = new ScottPlot.Plot();
        var shown = values.Select((v, i) => (Rank: (double)i, Value: logScale ? Math.Log10(Math.Abs(v)) : v)).Where(p => double.IsFinite(p.Value)).ToArray();
        var scatter = plot.Add.Scatter(shown.Select(p => p.Rank).ToArray(), shown.Select(p => p.Value).ToArray());
        scatter.LineWidth = 0;
        plot.Title(title);
        plot.XLabel("rank");
        plot.YLabel(logScale ? "log10 |eigenvalue|" : "eigenvalue");
        return new Figure(plot, 720, 440);
    }

    /// <summary>A spectral density from stochastic Lanczos quadrature.</summary>
    /// <param name="density">The estimate.</param>
    /// <param name="title">The title.</param>
    /// <param name="logDensity">Plot log10 of the density (the bulk and the outliers of a Hessian differ by orders of magnitude).</param>
    /// <returns>The figure.</returns>
    public static Figure Density(SpectralDensityResult density, string title = "spectral density", bool logDensity = true)
    {
        ArgumentNullException.ThrowIfNull(density);
        var plot = new ScottPlot.Plot();
        var y = density.Density.Select(v => logDensity ? Math.Log10(Math.Max(v, 1e-12)) : v).ToArray();
        Add(plot, density.Grid.ToArray(), y, "density");
        plot.Title($"{title} (σ = {density.Sigma:G3})");
        plot.XLabel("eigenvalue");
        plot.YLabel(logDensity ? "log10 density" : "density");
        return new Figure(plot, 720, 440);
    }

    /// <summary>
    /// The leading eigenvectors of a patch metric (ConvRFM's M, q²·channels square) as a grid of q × q filters, one per
    /// eigenvector, channel 0.
    /// </summary>
    /// <param name="patchMetric">M, (q·q·channels) × (q·q·channels).</param>
    /// <param name="patchSize">q.</param>
    /// <param name="count">How many filters (eigenvectors by decreasing eigenvalue).</param>
    /// <returns>The figure.</returns>
    public static Figure Filters(Matrix<double> patchMetric, int patchSize, int count = 8)
    {
        ArgumentNullException.ThrowIfNull(patchMetric);
        ArgumentOutOfRangeException.ThrowIfLessThan(patchSize, 1);
        int dim = patchMetric.RowCount, area = patchSize * patchSize;
        if (patchMetric.ColumnCount != dim || dim % area != 0)
        {
            throw new ArgumentException($"M is {dim} x {patchMetric.ColumnCount}; it must be square with a multiple of q² = {area} rows.", nameof(patchMetric));
        }

        count = Math.Clamp(count, 1, dim);
        var evd = patchMetric.Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
        var order = Enumerable.Range(0, dim).OrderByDescending(i => evd.EigenValues[i].Real).Take(count).ToArray();
        int columns = (int)Math.Ceiling(Math.Sqrt(count)), rows = (int)Math.Ceiling(count / (double)columns);
        var grid = new double[(rows * (patchSize + 1)) - 1, (columns * (patchSize + 1)) - 1];
        for (int f = 0; f < count; f++)
        {
            var v = evd.EigenVectors.Column(order[f]);
            double scale = v.AbsoluteMaximum();
            int r0 = (f / columns) * (patchSize + 1), c0 = (f % columns) * (patchSize + 1);
            for (int a = 0; a < patchSize; a++)
            {
                for (int b = 0; b < patchSize; b++)
                {
                    grid[r0 + a, c0 + b] = scale == 0 ? 0 : v[(a * patchSize) + b] / scale;
                }
            }
        }

        var plot = new ScottPlot.Plot();
        var heatmap = plot.Add.Heatmap(grid);
        plot.Add.ColorBar(heatmap);
        plot.Title($"top {count} eigenvectors of M as {patchSize} x {patchSize} filters");
        plot.Axes.InvertY();
        return new Figure(plot, 640, 560);
    }

    /// <summary>Line plots of several series, each with its own x; NaN and infinite points are left out.</summary>
    /// <param name="title">The title.</param>
    /// <param name="xLabel">The x axis label.</param>
    /// <param name="yLabel">The y axis label.</param>
    /// <param name="series">Each series: legend label, x values and y values of equal length.</param>
    /// <returns>The figure.</returns>
    /// <exception cref="ArgumentException">No series, or a series whose x and y lengths differ.</exception>
    public static Figure Lines(string title, string xLabel, string yLabel, params (string Label, double[] X, double[] Y)[] series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Length == 0)
        {
            throw new ArgumentException("Give at least one series.", nameof(series));
        }

        var plot = new ScottPlot.Plot();
        foreach (var (label, x, y) in series)
        {
            if (x is null || y is null || x.Length != y.Length)
            {
                throw new ArgumentException($"Series '{label}' has {x?.Length ?? 0} x values and {y?.Length ?? 0} y values.", nameof(series));
            }

            Add(plot, x, y, label);
        }

        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
        return new Figure(plot, 720, 440);
    }

    private static void Add(ScottPlot.Plot plot, double[] x, double[] y, string label)
    {
        // Non-finite points (a log of 0, a missing value) are left out; the line joins the points on either side.
        var finite = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(x[i]) && double.IsFinite(y[i])).ToArray();
        var line = plot.Add.Scatter(finite.Select(i => x[i]).ToArray(), finite.Select(i => y[i]).ToArray());
        line.LegendText = label;
        line.MarkerSize = 0;
    }
}
