using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Rfm;

public sealed class GrokkingDataTests
{
    [Theory]
    [InlineData(ModularOperation.Add)]
    [InlineData(ModularOperation.Subtract)]
    [InlineData(ModularOperation.Multiply)]
    [InlineData(ModularOperation.Divide)]
    public void TablesAreCompleteAndCorrect(ModularOperation operation)
    {
        const int p = 13;
        var task = ModularArithmetic.Create(p, operation);
        task.Count.Should().Be(operation == ModularOperation.Divide ? p * (p - 1) : p * p);
        for (int i = 0; i < task.Count; i++)
        {
            int a = task.A[i], b = task.B[i], r = task.Results[i];
            switch (operation)
            {
                case ModularOperation.Add: r.Should().Be((a + b) % p); break;
                case ModularOperation.Subtract: ((r + b) % p).Should().Be(a); break;
                case ModularOperation.Multiply: r.Should().Be(a * b % p); break;
                default: (r * b % p).Should().Be(a); break;
            }
        }

        var x = task.Inputs<double>([0, 5]);
        x.RowSums().Enumerate().Should().OnlyContain(v => v == 2);
        x[1, task.A[5]].Should().Be(1);
        x[1, p + task.B[5]].Should().Be(1);
        task.Targets<float>([5])[0, task.Results[5]].Should().Be(1f);
    }

    [Fact]
    public void SplitIsSeededAndComplete()
    {
        var task = ModularArithmetic.Create(11, ModularOperation.Add);
        var (train, test) = task.Split(0.5, 3);
        train.Concat(test).Should().BeEquivalentTo(Enumerable.Range(0, 121));
        task.Split(0.5, 3).Train.Should().Equal(train);
        task.Split(0.5, 4).Train.Should().NotEqual(train);
        ((Action)(() => ModularArithmetic.Create(15, ModularOperation.Add))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("modulus");
    }

    [Fact]
    public void DiscreteLogarithmOrderIsAPermutationGeneratedByAPrimitiveRoot()
    {
        ModularArithmetic.PrimitiveRoot(61).Should().Be(2);
        ModularArithmetic.PrimitiveRoot(7).Should().Be(3);
        var order = ModularArithmetic.DiscreteLogOrder(61);
        order.Should().BeEquivalentTo(Enumerable.Range(1, 60));
        for (int k = 1; k < order.Length; k++)
        {
            order[k].Should().Be(order[k - 1] * 2 % 61);
        }
    }

    /// <summary>A 2p × 2p metric whose cross block M[p + l, j] is c[(j − l) mod p] (or Hankel for −), plus identity.</summary>
    private static Matrix<double> WithCrossBlock(int p, Func<int, int, double> block)
    {
        var m = Matrix<double>.Build.DenseIdentity(2 * p);
        for (int l = 0; l < p; l++)
        {
            for (int j = 0; j < p; j++)
            {
                m[p + l, j] = m[j, p + l] = block(l, j);
            }
        }

        return m;
    }

    [Fact]
    public void CirculantDeviationIsZeroForTheTasksStructureAndNearOneForNoise()
    {
        const int p = 17;
        var c = Enumerable.Range(0, p).Select(i => Math.Cos(2 * Math.PI * 3 * i / p) + (0.1 * i)).ToArray();
        GrokkingMeasures.CirculantDeviation(WithCrossBlock(p, (l, j) => c[((j - l) % p + p) % p]), p, ModularOperation.Add).Should().BeApproximately(0, 1e-12);
        GrokkingMeasures.CirculantDeviation(WithCrossBlock(p, (l, j) => c[(j + l) % p]), p, ModularOperation.Subtract).Should().BeApproximately(0, 1e-12);
        var log = ModularArithmetic.DiscreteLogOrder(p);
        var position = new int[p];
        for (int k = 0; k < log.Length; k++)
        {
            position[log[k]] = k;
        }

        GrokkingMeasures.CirculantDeviation(WithCrossBlock(p, (l, j) => l == 0 || j == 0 ? 0 : c[((position[j] - position[l]) % (p - 1) + p - 1) % (p - 1)]), p, ModularOperation.Multiply).Should().BeApproximately(0, 1e-12);

        var rng = new System.Random(1);
        double noise = GrokkingMeasures.CirculantDeviation(WithCrossBlock(p, (_, _) => rng.NextDouble() - 0.5), p, ModularOperation.Add);
        noise.Should().BeInRange(0.8, 1.0);
        double.IsNaN(GrokkingMeasures.CirculantDeviation(Matrix<double>.Build.DenseIdentity(2 * p), p, ModularOperation.Add)).Should().BeTrue();
    }

    [Fact]
    public void AlignmentIsTheCosineSimilarity()
    {
        var a = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 }, { 0, 1 } });
        var b = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 }, { 0, 0 } });
        GrokkingMeasures.Alignment(a, a).Should().BeApproximately(1, 1e-15);
        GrokkingMeasures.Alignment(a, -a).Should().BeApproximately(-1, 1e-15);
        GrokkingMeasures.Alignment(a, b).Should().BeApproximately(1 / Math.Sqrt(2), 1e-15);
    }
}

public sealed class DisplayOrderTests
{
    [Theory]
    [InlineData(ModularOperation.Add)]
    [InlineData(ModularOperation.Subtract)]
    [InlineData(ModularOperation.Multiply)]
    [InlineData(ModularOperation.Divide)]
    public void DisplayOrderMakesTheTasksCrossBlockCirculant(ModularOperation operation)
    {
        // The learned cross block depends on the inverse relation of the task (measured: for + it is constant along
        // b − a): a − b for +, a + b for −, a / b for ×, a · b for ÷. In display order it is circulant, and the circulant
        // deviation, which relabels the same way, is 0 (rows and columns of residue 0 left out under × and ÷).
        const int p = 11;
        var m = Matrix<double>.Build.DenseIdentity(2 * p);
        for (int a = 0; a < p; a++)
        {
            for (int b = 0; b < p; b++)
            {
                int? relation = operation switch
                {
                    ModularOperation.Add => ((a - b) % p + p) % p,
                    ModularOperation.Subtract => (a + b) % p,
                    ModularOperation.Multiply => a == 0 || b == 0 ? null : ModularArithmetic.Create(p, ModularOperation.Divide).Results[(a * (p - 1)) + b - 1],
                    _ => a == 0 || b == 0 ? null : a * b % p,
                };
                m[a, p + b] = m[p + b, a] = relation is { } r ? Math.Cos(2 * Math.PI * 3 * r / p) + (0.01 * r) : 0;
            }
        }

        GrokkingMeasures.CirculantDeviation(m, p, operation).Should().BeApproximately(0, 1e-12);
        var order = GrokkingMeasures.DisplayOrder(p, operation);
        order.Should().BeEquivalentTo(Enumerable.Range(0, 2 * p));
        var shown = GrokkingMeasures.Reorder(m, order);
        int q = operation is ModularOperation.Multiply or ModularOperation.Divide ? p - 1 : p;
        for (int shift = 0; shift < q; shift++)
        {
            var diagonal = Enumerable.Range(0, q).Select(l => shown[p + l, (l + shift) % q]).ToArray();
            diagonal.Should().OnlyContain(v => Math.Abs(v - diagonal[0]) < 1e-12, $"wrapped diagonal {shift} of the cross block");
        }
    }
}
