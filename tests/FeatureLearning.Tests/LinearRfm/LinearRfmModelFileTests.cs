using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.LinearRfm;

namespace FeatureLearning.Tests.LinearRfm;

/// <summary>Save/Load of the lin-RFM models through files: round trips in both precisions and the errors of a wrong file.</summary>
public sealed class LinearRfmModelFileTests : IDisposable
{
    private static readonly ManagedBackend Backend = new();
    private readonly string directory = Directory.CreateTempSubdirectory("linrfm-models-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void SparseRegressionModelsRoundTripThroughAFile()
    {
        var (x, y, w) = PlantedProblems.SparseRegression(30, 50, 3, seed: 6);
        var estimator = new SparseRegression(new SparseRegressionOptions { MaxIterations = 4, Backend = Backend });
        var model = estimator.Fit(x, y, w);
        string path = Path.Combine(directory, "sparse.flm");
        model.Save(path);
        var loaded = SparseRegressionModel<double>.Load(path);
        loaded.Weights.ToArray().Should().Equal(model.Weights.ToArray());
        loaded.History.Should().Equal(model.History);
        loaded.Predict(x).ToArray().Should().Equal(model.Predict(x).ToArray());

        var single = estimator.Fit(x.Map(v => (float)v), y.Map(v => (float)v));
        string singlePath = Path.Combine(directory, "sparse32.flm");
        single.Save(singlePath);
        SparseRegressionModel<float>.Load(singlePath).Weights.ToArray().Should().Equal(single.Weights.ToArray());
        ((Action)(() => SparseRegressionModel<double>.Load(singlePath))).Should().Throw<InvalidDataException>().WithMessage("*single precision*");
        ((Action)(() => MatrixCompletionModel<double>.Load(path))).Should().Throw<InvalidDataException>().WithMessage("*'LSR1' model, not a 'LMC1'*");
    }

    [Fact]
    public void MatrixCompletionModelsRoundTripThroughAFile()
    {
        var (truth, observed) = PlantedProblems.LowRank(20, 15, 2, 150, seed: 7);
        var estimator = new MatrixCompletion(new MatrixCompletionOptions { MaxIterations = 6, Backend = Backend });
        var model = estimator.Fit(observed, truth);
        string path = Path.Combine(directory, "completion.flm");
        model.Save(path);
        var loaded = MatrixCompletionModel<double>.Load(path);
        loaded.Completed.ToRowMajorArray().Should().Equal(model.Completed.ToRowMajorArray());
        loaded.History.Should().Equal(model.History);
        loaded.SelectedIteration.Should().Be(model.SelectedIteration);
        (loaded.RowCount, loaded.ColumnCount).Should().Be((20, 15));

        var single = estimator.Fit<float>(observed);
        string singlePath = Path.Combine(directory, "completion32.flm");
        single.Save(singlePath);
        var singleLoaded = MatrixCompletionModel<float>.Load(singlePath);
        singleLoaded.Completed.ToRowMajorArray().Should().Equal(single.Completed.ToRowMajorArray());
        singleLoaded.SelectedIteration.Should().Be(single.SelectedIteration);
        ((Action)(() => SparseRegressionModel<float>.Load(singlePath))).Should().Throw<InvalidDataException>();
    }
}
