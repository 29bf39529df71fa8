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
