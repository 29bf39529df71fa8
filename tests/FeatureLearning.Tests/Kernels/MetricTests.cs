using FeatureLearning.Kernels;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Kernels;

public sealed class MetricTests
{
    [Fact]
    public void NonSymmetricMetricIsRejected()
    {
        var m = Matrix<double>.Build.DenseOfArray(new double[,] { { 2, 1 }, { 0, 2 } });
        ((Action)(() => Metric.Full(m))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("matrix");
    }

    [Fact]
    public void IndefiniteMetricIsRejected()
    {
        var m = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 }, { 2, 1 } }); // eigenvalues 3 and -1
        ((Action)(() => Metric.Full(m))).Should().Throw<ArgumentException>().WithMessage("*positive semi-definite*");
    }

    [Fact]
    public void SingularPositiveSemidefiniteMetricIsAccepted()
    {
        var m = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 1 }, { 1, 1 } });
        Metric.Full(m).Kind.Should().Be(MetricKind.Full);
    }

    [Fact]
    public void ThePositiveSemidefiniteCheckAllowsRoundingBelowItsToleranceAndNoMore()
    {
        // M = Q diag(2, 1, λ) Qᵀ with a rotation Q: λ = −1e−12 is rounding (the check allows M + δI, δ = 1e−9·d·max|M_ij|),
        // λ = −1e−6 is a negative direction.
        var q = Matrix<double>.Build.DenseOfArray(new double[,] { { 2, -2, 1 }, { 1, 2, 2 }, { 2, 1, -2 } }) / 3;
        Matrix<double> With(double lambda) => q * Matrix<double>.Build.DenseOfDiagonalArray([2, 1, lambda]) * q.Transpose();
        Metric.Full(With(-1e-12)).Kind.Should().Be(MetricKind.Full);
        Metric.Full(With(0)).Kind.Should().Be(MetricKind.Full);
        ((Action)(() => Metric.Full(With(-1e-6)))).Should().Throw<ArgumentException>().WithMessage("*not positive semi-definite (Cholesky of M + δI failed at pivot 2)*");
    }

    [Fact]
    public void BadDiagonalsAreRejected()
    {
        ((Action)(() => Metric.Diagonal([1.0, -0.1]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("diagonal");
        ((Action)(() => Metric.Diagonal([double.NaN]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("diagonal");
        ((Action)(() => Metric.Diagonal(Array.Empty<double>()))).Should().Throw<ArgumentException>();
        ((Action)(() => Metric.Full(Matrix<double>.Build.Dense(2, 3)))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("matrix");
    }

    [Fact]
    public void DistancesFollowTheMetric()
    {
        var full = Metric.Full(Matrix<double>.Build.DenseOfArray(new double[,] { { 2, 1 }, { 1, 3 } }));
        // (x − z) = (1, −1): 2 − 1 − 1 + 3 = 3
        full.SquaredDistance([2.0, 0.0], [1.0, 1.0]).Should().Be(3);
        Metric.Diagonal([4.0, 9.0]).SquaredDistance([1.0, 1.0], [0.0, 0.0]).Should().Be(13);
        Metric.Identity.InnerProduct([1.0, 2.0], [3.0, 4.0]).Should().Be(11);
        full.ToMatrix(2)[1, 1].Should().Be(3);
    }
}
