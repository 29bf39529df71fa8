using FeatureLearning.Compute;
using FeatureLearning.Data;

namespace FeatureLearning.Tests.Conformance;

// The estimator conformance suite, once per estimator (on the managed backend; CrossBackendEstimatorTests compares
// the other backends with it).

public sealed class KernelRidgeConformance : EstimatorConformanceTests<MatrixProblem>
{
    protected override EstimatorCase<MatrixProblem> Case { get; } = new KernelRidgeCase();
}

public sealed class RfmConformance : EstimatorConformanceTests<MatrixProblem>
{
    protected override EstimatorCase<MatrixProblem> Case { get; } = new RfmCase();
}

public sealed class SparseRegressionConformance : EstimatorConformanceTests<SparseProblem>
{
    protected override EstimatorCase<SparseProblem> Case { get; } = new SparseRegressionCase();
}

public sealed class MatrixCompletionConformance : EstimatorConformanceTests<ObservedEntries>
{
    protected override EstimatorCase<ObservedEntries> Case { get; } = new MatrixCompletionCase();
}

public sealed class ConvRfmConformance : EstimatorConformanceTests<ImageProblem>
{
    protected override EstimatorCase<ImageProblem> Case { get; } = new ConvRfmCase();
}

public sealed class DeepConvRfmConformance : EstimatorConformanceTests<ImageProblem>
{
    protected override EstimatorCase<ImageProblem> Case { get; } = new DeepConvRfmCase();
}

/// <summary>A one-thread managed backend against the default one: the estimators do not depend on the thread count.</summary>
public sealed class SerialManagedCrossBackendTests : CrossBackendEstimatorTests
{
    protected override IComputeBackend CreateBackend() => new ManagedBackend(maxDegreeOfParallelism: 1);
}

/// <summary>
/// The one rule for the backend a fitted model uses: the backend passed to <c>Predict</c>, else the one that fitted (or
/// loaded) the model, else <see cref="ComputeBackends.Default"/>; a model whose backend has been disposed throws
/// <see cref="ObjectDisposedException"/> rather than computing anywhere else.
/// </summary>
public sealed class FittedModelBackendRuleTests
{
    [Fact]
    public void AModelPredictsOnItsFittingBackendUnlessGivenOneAndFailsLoudlyOnceThatIsDisposed()
    {
        var matrix = new KernelRidgeCase();
        var data = matrix.Data(41);
        var images = new ConvRfmCase();
        var imageData = images.Data(42);
        var sparse = new SparseRegressionCase();
        var sparseData = sparse.Data(43);

        var fitting = new ManagedBackend();
#pragma warning disable CA2000 // disposed below, on purpose, while the models still hold it
        var kr = (FeatureLearning.KernelMachines.KernelRidgeModel<double>)matrix.Fit(data, fitting, null, CancellationToken.None);
        var rfm = (FeatureLearning.Rfm.RfmModel<double>)new RfmCase().Fit(data, fitting, null, CancellationToken.None);
        var conv = (FeatureLearning.ConvRfm.ConvRfmModel<double>)images.Fit(imageData, fitting, null, CancellationToken.None);
        var lin = (FeatureLearning.LinearRfm.SparseRegressionModel<double>)sparse.Fit(sparseData, fitting, null, CancellationToken.None);
        var before = (kr.Predict(data.XTest).ToRowMajorArray(), rfm.Predict(data.XTest).ToRowMajorArray(), conv.Predict(imageData.XTest).ToRowMajorArray(), lin.Predict(sparseData.XTest).ToArray());

        fitting.Dispose();
#pragma warning restore CA2000
        ((Action)(() => kr.Predict(data.XTest))).Should().Throw<ObjectDisposedException>();
        ((Action)(() => rfm.Predict(data.XTest))).Should().Throw<ObjectDisposedException>();
        ((Action)(() => conv.Predict(imageData.XTest))).Should().Throw<ObjectDisposedException>();
        ((Action)(() => lin.Predict(sparseData.XTest))).Should().Throw<ObjectDisposedException>();

        using var other = new ManagedBackend();
        kr.Predict(data.XTest, other).ToRowMajorArray().Should().Equal(before.Item1);
        rfm.Predict(data.XTest, other).ToRowMajorArray().Should().Equal(before.Item2);
        conv.Predict(imageData.XTest, other).ToRowMajorArray().Should().Equal(before.Item3);
        lin.Predict(sparseData.XTest, other).ToArray().Should().Equal(before.Item4);
    }
}
