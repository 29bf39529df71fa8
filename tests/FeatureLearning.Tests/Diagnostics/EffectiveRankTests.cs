using FeatureLearning.Diagnostics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary><see cref="EffectiveRank"/> on matrices with planted singular values.</summary>
public sealed class EffectiveRankTests
{
    /// <summary>U·diag(s)·Vᵀ with orthonormal U (m × r) and V (n × r) from the QR of seeded Gaussian matrices.</summary>
    internal static Matrix<double> Planted(int m, int n, double[] s, int seed)
    {
        var u = Matrix<double>.Build.DenseOfRowMajor(m, s.Length, TestMatrices.Random(m, s.Length, seed)).QR().Q.SubMatrix(0, m, 0, s.Length);
        var v = Matrix<double>.Build.DenseOfRowMajor(n, s.Length, TestMatrices.Random(n, s.Length, seed + 1)).QR().Q.SubMatrix(0, n, 0, s.Length);
        return u * Matrix<double>.Build.DenseOfDiagonalArray(s) * v.Transpose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void APlantedRankRUpdateWithEqualSingularValuesHasRankR(int r)
    {
        var a = Planted(9, 7, Enumerable.Repeat(2.5, r).ToArray(), 11 * r);
        EffectiveRank.Entropy(a).Should().BeApproximately(r, 1e-9);
        EffectiveRank.Stable(a).Should().BeApproximately(r, 1e-9);
        EffectiveRank.Entropy(a.Map(v => (float)v)).Should().BeApproximately(r, 1e-4);
    }

    [Fact]
    public void UnequalSingularValuesGiveTheClosedForms()
    {
        var a = Planted(6, 5, [3.0, 1.0], 4);
        double entropy = -((0.75 * Math.Log(0.75)) + (0.25 * Math.Log(0.25)));
        EffectiveRank.Entropy(a).Should().BeApproximately(Math.Exp(entropy), 1e-10);
        EffectiveRank.Stable(a).Should().BeApproximately(10.0 / 9.0, 1e-10);
    }

    [Fact]
    public void TheZeroMatrixHasRankZeroAndNonFiniteEntriesAreRejected()
    {
        EffectiveRank.Entropy(Matrix<double>.Build.Dense(3, 4)).Should().Be(0);
        EffectiveRank.Stable(Matrix<double>.Build.Dense(3, 4)).Should().Be(0);
        var bad = Matrix<double>.Build.Dense(2, 2);
        bad[0, 1] = double.NaN;
        FluentActions.Invoking(() => EffectiveRank.Entropy(bad)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("matrix");
    }
}
