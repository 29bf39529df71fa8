using System.Buffers.Binary;
using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Estimators;
using FeatureLearning.Plotting;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.DotNet.Interactive.Formatting;

namespace FeatureLearning.Tests.Plotting;

/// <summary>
/// FeatureLearning.Plotting: every figure renders to a PNG of the size asked for (read back from the PNG header), bad
/// input is refused, and the notebook formatters, registered through the real .NET Interactive formatter, turn a figure,
/// a model and a matrix into inline images.
/// </summary>
public sealed class PlotsTests
{
    private static (int Width, int Height) PngSize(byte[] png)
    {
        png.Take(8).Should().Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10], "a PNG signature");
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
    }

    private static RfmModel<double> SmallRfm()
    {
        var data = LabeledDataSet.LoadCsv(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"));
        var (train, validation) = data.Subset(Enumerable.Range(0, 300).ToArray()).StratifiedSplit(0.7, seed: 0);
        return new RecursiveFeatureMachine(new RfmOptions { Rounds = 3 }).Fit(train.Features / 16, OneHot.Encode(train.Labels, data.Classes), (validation.Features / 16, OneHot.Encode(validation.Labels, data.Classes)));
    }

    [Fact]
    public void EveryFigureRendersAPngOfTheRequestedSize()
    {
        var m = Matrix<double>.Build.Dense(12, 12, (i, j) => Math.Cos(i - j));
        PngSize(Plots.HeatMap(m).ToPng()).Should().Be((640, 560));
        PngSize(Plots.HeatMap(m).ToPng(300, 200)).Should().Be((300, 200));

        var model = SmallRfm();
        PngSize(Plots.FeatureMatrix(model).ToPng()).Should().Be((640, 560));
        PngSize(Plots.History(model).ToPng()).Should().Be((720, 440));
        PngSize(Plots.Spectrum([5, 3, 1, 0.1, 0]).ToPng()).Should().Be((720, 440));
        var density = SpectralDensity.Estimate(SymmetricOperator.Dense(m * m.Transpose()), new SpectralDensityOptions { Runs = 2, Steps = 5 });
        PngSize(Plots.Density(density).ToPng()).Should().Be((720, 440));
        var patch = Matrix<double>.Build.Dense(9, 9, (i, j) => i == j ? 1 + i : 0.1);
        PngSize(Plots.Filters(patch, 3, 4).ToPng()).Should().Be((640, 560));
        PngSize(Plots.Lines("t", "x", "y", ("a", [0, 1, 2], [1, 0, 1]), ("b", [0, 2], [0.5, double.NaN])).ToPng()).Should().Be((720, 440));

        string path = Path.Combine(Path.GetTempPath(), $"fl-plot-{Guid.NewGuid():N}.png");
        try
        {
            Plots.HeatMap(m).SavePng(path).Should().Be(path);
            PngSize(File.ReadAllBytes(path)).Should().Be((640, 560));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadInputIsRefusedNamingTheArgument()
    {
        var nan = Matrix<double>.Build.Dense(3, 3);
        nan[1, 2] = double.NaN;
        FluentActions.Invoking(() => Plots.HeatMap(nan)).Should().Throw<ArgumentException>().WithParameterName("matrix").WithMessage("*(1, 2)*NaN*");
        FluentActions.Invoking(() => Plots.History(Array.Empty<RfmIteration>())).Should().Throw<ArgumentException>().WithParameterName("history");
        FluentActions.Invoking(() => Plots.Filters(Matrix<double>.Build.Dense(10, 10), 3)).Should().Throw<ArgumentException>().WithParameterName("patchMetric");
        FluentActions.Invoking(() => Plots.Spectrum([double.NaN])).Should().Throw<ArgumentException>().WithParameterName("eigenvalues");
        FluentActions.Invoking(() => Plots.Lines("t", "x", "y", ("a", [0, 1], [1]))).Should().Throw<ArgumentException>().WithParameterName("series").WithMessage("*'a'*2 x values and 1 y values*");
    }

    [Fact]
    public void NotebookFormattersShowFiguresModelsAndMatricesAsImages()
    {
        // The kernel's formatter assembly is loaded in a notebook; here the test references it.
        _ = typeof(Formatter).Assembly;
        Notebook.UseFormatters().Should().BeTrue();

        var figure = Plots.HeatMap(Matrix<double>.Build.DenseIdentity(4));
        figure.ToDisplayString("text/html").Should().StartWith("<img src=\"data:image/png;base64,");
        var png = Convert.FromBase64String(figure.ToHtml().Split("base64,")[1].Split('"')[0]);
        PngSize(png).Should().Be((640, 560));

        var model = SmallRfm();
        string html = model.ToDisplayString("text/html");
        html.Should().Contain("<table>").And.Contain("RfmModel&lt;Double&gt;: 3 rounds");
        System.Text.RegularExpressions.Regex.Matches(html, "data:image/png;base64,").Should().HaveCount(2, "M and the history");
        System.Text.RegularExpressions.Regex.Matches(html, "<tr").Should().HaveCount(4, "a header and three rounds");

        var x = Matrix<double>.Build.Dense(120, 4, (i, j) => Math.Sin((i * 4) + j));
        var labels = Enumerable.Range(0, 120).Select(i => x[i, 0] > 0 ? "up" : "down").ToArray();
        var classifier = new FeatureMachineClassifier(new FeatureMachineOptions { Rounds = 2 }).Fit(x, labels);
        classifier.ToDisplayString("text/html").Should().Contain("data:image/png;base64,");

        Matrix<double>.Build.DenseIdentity(3).ToDisplayString("text/html").Should().Contain("data:image/png;base64,");
        Matrix<double>.Build.Dense(Notebook.MaxHeatMapSize + 1, 2).ToDisplayString("text/html").Should().NotContain("data:image/png", "large matrices keep a text display");
    }
}
