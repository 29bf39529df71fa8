using FeatureLearning.Data;
using FeatureLearning.Estimators;

namespace FeatureLearning.Tests.Estimators;

public sealed class CsvLoadingTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"csv-{Guid.NewGuid():N}");

    public CsvLoadingTests() => Directory.CreateDirectory(directory);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void TextLabelsByNameWithASemicolonSeparator()
    {
        string path = Write("species;width;height\nowl;1.5;2\ncat; 3;4\n\nowl;5;6e1\n");
        var data = LabeledDataSet.LoadCsv(path, new CsvOptions { Separator = ';', HasHeader = true, LabelColumnName = "species" });

        data.Features.ToArray().Should().BeEquivalentTo(new double[,] { { 1.5, 2 }, { 3, 4 }, { 5, 60 } });
        data.ClassNames.Should().Equal("cat", "owl");
        data.Labels.Should().Equal(1, 0, 1);
        data.LabelNames.Should().Equal("owl", "cat", "owl");
        data.Subset([1]).ClassNames.Should().Equal("cat", "owl");
    }

    [Fact]
    public void IntegerLabelsByIndexKeepTheirValues()
    {
        string path = Write("2,1,9\n0,3,8\n");
        var data = LabeledDataSet.LoadCsv(path, new CsvOptions { LabelColumn = 0 });
        data.Labels.Should().Equal(2, 0);
        data.Classes.Should().Be(3);
        data.ClassNames.Should().Equal("0", "1", "2");
        data.Features.ToArray().Should().BeEquivalentTo(new double[,] { { 1, 9 }, { 3, 8 } });

        LabeledDataSet.LoadCsv(path, new CsvOptions { LabelColumn = -2 }).Labels.Should().Equal(1, 3);
    }

    [Fact]
    public void RegressionTargetsFromAnyColumn()
    {
        string path = Write("x\ty\tz\n1\t0.25\t3\n4\t-1.5\t6\n");
        var data = RegressionDataSet.LoadCsv(path, new CsvOptions { Separator = '\t', HasHeader = true, LabelColumnName = "y" });
        data.Targets.Should().Equal(0.25, -1.5);
        data.Features.ToArray().Should().BeEquivalentTo(new double[,] { { 1, 3 }, { 4, 6 } });
        var (train, test) = data.Split(0.5, seed: 0);
        train.Targets.Concat(test.Targets).Order().Should().Equal(-1.5, 0.25);
    }

    [Fact]
    public void TheOldCallStillReadsTheDigits()
    {
        var data = LabeledDataSet.LoadCsv(EstimatorData.DigitsPath);
        var withOptions = LabeledDataSet.LoadCsv(EstimatorData.DigitsPath, new CsvOptions());
        withOptions.Features.Should().Be(data.Features);
        withOptions.Labels.Should().Equal(data.Labels);
        data.Classes.Should().Be(10);
    }

    [Fact]
    public void StringLabelsFromAFileFitTheClassifier()
    {
        var lines = new List<string> { "a,b,label" };
        var rng = new Random(3);
        for (int i = 0; i < 60; i++)
        {
            double a = rng.NextDouble(), b = rng.NextDouble();
            lines.Add(FormattableString.Invariant($"{a},{b},{(a > b ? "high" : "low")}"));
        }

        var data = LabeledDataSet.LoadCsv(Write(string.Join('\n', lines)), new CsvOptions { HasHeader = true });
        var model = new FeatureMachineClassifier(new FeatureMachineOptions { Rounds = 1, Backend = EstimatorData.Backend }).Fit(data.Features, data.LabelNames);
        model.Classes.Should().Equal("high", "low");
        model.Score(data.Features, data.LabelNames).Should().Be(1.0, "kernel ridge with a tiny ridge interpolates its training labels");
    }

    [Fact]
    public void BadOptionsAndFilesAreRefused()
    {
        string path = Write("a,b\n1,2\n");
        FluentActions.Invoking(() => LabeledDataSet.LoadCsv(path, new CsvOptions { LabelColumn = 0, LabelColumnName = "a", HasHeader = true }))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "LabelColumnName");
        FluentActions.Invoking(() => LabeledDataSet.LoadCsv(path, new CsvOptions { LabelColumnName = "a" }))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "LabelColumnName");
        FluentActions.Invoking(() => LabeledDataSet.LoadCsv(path, new CsvOptions { Separator = '.' }))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "Separator");
        FluentActions.Invoking(() => LabeledDataSet.LoadCsv(path, new CsvOptions { HasHeader = true, LabelColumnName = "c" }))
            .Should().Throw<InvalidDataException>().WithMessage("*no column 'c'*");
        FluentActions.Invoking(() => LabeledDataSet.LoadCsv(path, new CsvOptions { LabelColumn = 5 }))
            .Should().Throw<InvalidDataException>().WithMessage("*label column 5*");
        FluentActions.Invoking(() => RegressionDataSet.LoadCsv(Write("1,x\n")))
            .Should().Throw<InvalidDataException>().WithMessage("*target 'x'*");
        FluentActions.Invoking(() => LabeledDataSet.LoadCsv(Write("1,2\n1,2,3\n")))
            .Should().Throw<InvalidDataException>().WithMessage("*3 fields where 2*");
    }

    private string Write(string text)
    {
        string path = Path.Combine(directory, $"{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, text);
        return path;
    }
}
