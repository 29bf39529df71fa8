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
