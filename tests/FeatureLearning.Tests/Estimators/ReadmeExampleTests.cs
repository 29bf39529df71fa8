using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using FeatureLearning.Data;
using FeatureLearning.Estimators;
using FeatureLearning.Kernels;
using FeatureLearning.Plotting;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Estimators;

/// <summary>
/// The code of the README's "Use" section and of docs/estimators.md, run verbatim (the regions between the
/// <c>// block …</c> markers), and a check that the documents hold exactly these regions.
/// </summary>
public sealed partial class ReadmeExampleTests
{
    /// <summary>The README's relative data path resolves in the test output folder, where the data files are copied.</summary>
    public ReadmeExampleTests()
    {
        if (!File.Exists("data/digits.csv.gz"))
        {
            Environment.CurrentDirectory = AppContext.BaseDirectory;
        }
    }

    [Fact]
    public void FitScoreAndPlotInFiveStatements()
    {
        // block: facade
        var digits = LabeledDataSet.LoadCsv("data/digits.csv.gz");
        var (train, test) = digits.StratifiedSplit(0.8, seed: 0);
        var model = new FeatureMachineClassifier(new FeatureMachineOptions { Rounds = 5, ValidationFraction = 0.2 }).Fit(train.Features, train.Labels);
        Console.WriteLine($"test accuracy {model.Score(test.Features, test.Labels):P2}");
        Plots.FeatureMatrix(model).SavePng("M.png");
        // end

        model.Score(test.Features, test.Labels).Should().BeGreaterThan(0.95, "RFM separates the ten digits");
        model.Rfm!.History.Should().HaveCount(5);
        model.Rfm.History.Should().OnlyContain(r => double.IsFinite(r.ValidationAccuracy), "a fifth of the training rows was held out to choose the round");
        model.Rfm.Predictor.TrainingCount.Should().BeCloseTo((int)Math.Round(0.8 * train.Count), 10, "the held-out rows (a fifth of each class) are not trained on");
        new FileInfo("M.png").Length.Should().BeGreaterThan(1000);
    }

    [Fact]
    public void FitWithAnExplicitValidationSet()
    {
        var digits = LabeledDataSet.LoadCsv("data/digits.csv.gz");
        var (train, test) = digits.StratifiedSplit(0.8, seed: 0);
        var (fit, validation) = train.StratifiedSplit(0.8, seed: 1);
        var model = new FeatureMachineClassifier(new FeatureMachineOptions { Rounds = 5 }).Fit(fit.Features, fit.Labels, validation.Features, validation.Labels);
        model.Score(test.Features, test.Labels).Should().BeGreaterThan(0.95);
    }

    [Fact]
    public void HyperParameterSearchInSevenStatementsAtMost()
    {
        // block: search
        var digits = LabeledDataSet.LoadCsv("data/digits.csv.gz");
        var (train, test) = digits.StratifiedSplit(0.8, seed: 0);
        var space = new SearchSpace { Bandwidths = [5, 10], Rounds = [1, 3] };
        var search = new HyperParameterSearch(space, folds: 3, seed: 0).Fit(new FeatureMachineClassifier(), train.Features, train.Labels);
        Console.WriteLine(search);   // every candidate: hyper-parameters, mean ± std and the fold scores; the best marked *
        Console.WriteLine($"test accuracy {search.BestModel.Score(test.Features, test.Labels):P2}");
        // end

        search.Candidates.Should().HaveCount(4);
        search.BestModel.Score(test.Features, test.Labels).Should().BeGreaterThan(0.95);
    }

    [Fact]
    public void TheReadmeRfmSnippetRuns()
    {
        // block: rfm
        var data = LabeledDataSet.LoadCsv("data/digits.csv.gz");
        var (train, validation) = data.StratifiedSplit(0.8, seed: 0);
        var options = new RfmOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 5, OnRound = round => Console.WriteLine(round) };
        RfmModel<double> rfm = new RecursiveFeatureMachine(options).Fit(
            train.Features / 16.0, OneHot.Encode(train.Labels, data.Classes),
            validation: (validation.Features / 16.0, OneHot.Encode(validation.Labels, data.Classes)));
        Matrix<double> m = rfm.FeatureMatrix;          // the learned metric M, d × d
        Console.WriteLine($"kept {rfm.History[rfm.SelectedIteration]}");   // History[SelectedIteration]: rounds count from 0
        // end

        m.RowCount.Should().Be(64);
        rfm.History.Should().HaveCount(5);
    }

    /// <summary>Compiled, not run here (30 grokking rounds at p = 61 take long on a test machine; samples/Grokking runs them).</summary>
    /// <returns>The fitted model.</returns>
    public static RfmModel<double> GrokkingSnippetCompiles()
    {
        // block: grokking
        var task = ModularArithmetic.Create(61, ModularOperation.Add);
        var (trainPairs, testPairs) = task.Split(trainFraction: 0.5, seed: 0);
        var model = new RecursiveFeatureMachine(RfmOptions.Grokking(30)).Fit(
            task.Inputs<double>(trainPairs), task.Targets<double>(trainPairs),
            validation: (task.Inputs<double>(testPairs), task.Targets<double>(testPairs)));
        // end
        return model;
    }

    [SkippableFact]
    public void TheDocumentsHoldExactlyTheseBlocks()
    {
        string? source = SourcePath();
        Skip.If(source is null || !File.Exists(source), "the test's source file is not on this machine");
        string root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", ".."));
        var blocks = Blocks(File.ReadAllText(source!));
        string readme = Normalise(File.ReadAllText(Path.Combine(root, "README.md")));
        string estimators = Normalise(File.ReadAllText(Path.Combine(root, "docs", "estimators.md")));

        foreach (var name in new[] { "facade", "search", "rfm", "grokking" })
        {
            readme.Should().Contain(blocks[name], $"README.md shows the '{name}' block as the tests run it");
        }

        estimators.Should().Contain(blocks["facade"]).And.Contain(blocks["search"]);

        // The XML-doc example of RecursiveFeatureMachine is the README's RFM block.
        string xmlDoc = string.Join('\n', File.ReadAllLines(Path.Combine(root, "src", "FeatureLearning", "Rfm", "RecursiveFeatureMachine.cs"))
            .Where(l => l.StartsWith("///", StringComparison.Ordinal))
            .Select(l => System.Net.WebUtility.HtmlDecode(l.Length > 4 ? l[4..] : string.Empty)));
        xmlDoc.Should().Contain(blocks["rfm"]);
        Statements(blocks["facade"]).Should().BeLessThanOrEqualTo(5);
        Statements(blocks["search"]).Should().BeLessThanOrEqualTo(7);
    }

    private static string? SourcePath([CallerFilePath] string? path = null) => path;

    /// <summary>The statements of a block: lines that end a statement with a semicolon (comments removed).</summary>
    private static int Statements(string block) => block.Split('\n').Count(line => Regex.Replace(line, "//.*$", string.Empty).TrimEnd().EndsWith(';'));

    private static Dictionary<string, string> Blocks(string source)
        => BlockPattern().Matches(source).ToDictionary(
            m => m.Groups[1].Value,
            m => string.Join('\n', m.Groups[2].Value.Split('\n').Select(l => l.Length >= 8 ? l[8..] : l.Trim())).Trim());

    private static string Normalise(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    [GeneratedRegex(@"// block: (\w+)\r?\n(.*?)\r?\n\s*// end", RegexOptions.Singleline)]
    private static partial Regex BlockPattern();
}
