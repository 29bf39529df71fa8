using System.Numerics;
using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <content>The batched ridge solve: every system against its own direct solve, failures named by system, the argument checks.</content>
public abstract partial class BackendConformanceTests
{
    private const int BatchOrder = 23;

    // Orders 0, 1, 3, 7, 23 (all of P, unsorted), a repeated index set; 0 to 3 right-hand sides each.
    private static readonly int[][] BatchIndexSets = [[], [4], [2, 9, 17], [0, 3, 5, 8, 13, 21, 22], [.. Enumerable.Range(0, BatchOrder).Reverse()], [2, 9, 17], [11, 6]];
    private static readonly int[] BatchRightHandSides = [2, 1, 3, 2, 1, 0, 3];

    private static SmallSystemBatch Batch(int[][] sets, int[] counts)
    {
        var starts = new int[sets.Length + 1];
        for (int s = 0; s < sets.Length; s++)
        {
            starts[s + 1] = starts[s] + sets[s].Length;
        }

        return new SmallSystemBatch(sets.SelectMany(x => x).ToArray(), starts, counts);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchedRidgeSolveMatchesPerSystemDirectSolves(bool strided)
    {
        CheckBatchedSolve<double>(strided);
        CheckBatchedSolve<float>(strided);
    }

    private void CheckBatchedSolve<T>(bool strided)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const double ridge = 0.05;
        var p = Spd(BatchOrder, 31, 0.1);
        var systems = Batch(BatchIndexSets, BatchRightHandSides);
        var b = Random(1, (int)systems.RightHandSideLength, 32);

        // P alone, or as a view into columns 3 … 25 of a wider buffer (leading dimension 29).
        using var parent = Backend.Allocate<T>(BatchOrder, strided ? BatchOrder + 6 : BatchOrder);
        using var view = strided ? parent.Slice(0, BatchOrder, 3, BatchOrder) : null;
        var pb = view ?? parent;
        Backend.Upload<T>(Cast<T>(p), pb);
        using var bb = Backend.Upload<T>(Cast<T>(b), (int)systems.RightHandSideLength, 1);
        Backend.BatchedRidgeSolve(pb, T.CreateTruncating(ridge), systems, bb);
        var actual = Download(Backend, bb);

        var expected = new double[b.Length];
        for (int s = 0; s < systems.Count; s++)
        {
            var set = BatchIndexSets[s];
            int k = set.Length, m = BatchRightHandSides[s], at = (int)systems.RightHandSideOffset(s);
            if (k == 0 || m == 0)
            {
                continue;
            }

            var a = Matrix<double>.Build.Dense(k, k, (r, c) => p[(set[r] * BatchOrder) + set[c]] + (r == c ? ridge : 0));
            var rhs = Matrix<double>.Build.Dense(k, m, (r, c) => b[at + (r * m) + c]);
            var x = a.Solve(rhs);
            for (int r = 0; r < k; r++)
            {
                for (int c = 0; c < m; c++)
                {
                    expected[at + (r * m) + c] = x[r, c];
                }
            }
        }

        RelativeError(actual, expected).Should().BeLessThan(100 * Tolerance<T>());
        Download(Backend, pb).Should().Equal(ToDouble(Cast<T>(p)), "P is only read");
    }

    [SkippableFact]
    public void BatchedRidgeSolveNamesTheLowestSystemThatIsNotPositiveDefinite()
    {
        // P = I except P[5,5] = −1 and P[8,8] = NaN: with λ = 0.1, systems 2 (index 5) and 4 (index 8) fail, system 2 first.
        var p = new double[BatchOrder * BatchOrder];
        for (int i = 0; i < BatchOrder; i++)
        {
            p[(i * BatchOrder) + i] = i == 5 ? -1 : i == 8 ? double.NaN : 1;
        }

        var systems = Batch([[0, 1], [2], [3, 5, 6], [7], [8, 9]], [1, 1, 1, 1, 1]);
        foreach (var (first, pivot) in new[] { (2, 1), (4, 0) })
        {
            using var pb = Backend.Upload<double>(p, BatchOrder, BatchOrder);
            using var bb = Backend.Upload<double>(new double[systems.RightHandSideLength], 1, (int)systems.RightHandSideLength);
            var run = () => Backend.BatchedRidgeSolve(pb, 0.1, systems, bb);
            var e = run.Should().Throw<MatrixNotPositiveDefiniteException>().Which;
            e.FailedSystem.Should().Be(first);
            e.FailedPivot.Should().Be(pivot);
            e.Message.Should().Contain($"system {first}");
            p[(5 * BatchOrder) + 5] = 1; // the second round fails on the NaN alone
        }

        using var single = Backend.Upload<float>(Cast<float>(p), BatchOrder, BatchOrder);
        using var singleB = Backend.Upload<float>(new float[systems.RightHandSideLength], 1, (int)systems.RightHandSideLength);
        ((Action)(() => Backend.BatchedRidgeSolve(single, 0.1f, systems, singleB))).Should().Throw<MatrixNotPositiveDefiniteException>().Which.FailedSystem.Should().Be(4);
    }

    [SkippableFact]
    public void BatchedRidgeSolveChecksItsArguments()
    {
        var systems = Batch([[0, 1], [2]], [1, 2]);
        using var p = Backend.Allocate<double>(3, 3);
        using var wide = Backend.Allocate<double>(3, 4);
        using var b = Backend.Allocate<double>(1, 4);
        using var shortB = Backend.Allocate<double>(1, 3);
        using var parent = Backend.Allocate<double>(2, 4);
        Backend.Scale(0.0, p);
        ((Action)(() => Backend.BatchedRidgeSolve(wide, 1.0, systems, b))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("p");
        ((Action)(() => Backend.BatchedRidgeSolve(p, 1.0, systems, shortB))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rightHandSides");
        ((Action)(() => Backend.BatchedRidgeSolve(p, 1.0, systems, parent.Slice(0, 2, 0, 2)))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rightHandSides");
        ((Action)(() => Backend.BatchedRidgeSolve(p, 1.0, Batch([[0, 3]], [1]), b.Slice(0, 1, 0, 2)))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("systems");
        ((Action)(() => Backend.BatchedRidgeSolve(p, 1.0, null!, b))).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void SmallSystemBatchValidatesItsLayout()
    {
        ((Action)(() => _ = new SmallSystemBatch([0, 1], [0, 1], [1]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("starts");
        ((Action)(() => _ = new SmallSystemBatch([0, 1], [0, 2, 1, 2], [1, 1, 1]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("starts");
        ((Action)(() => _ = new SmallSystemBatch([0, 1], [0, 2], [1, 1]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rightHandSides");
        ((Action)(() => _ = new SmallSystemBatch([0, 1], [0, 2], [-1]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rightHandSides");
        ((Action)(() => _ = new SmallSystemBatch([0, -1], [0, 2], [1]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("indices");
        var batch = new SmallSystemBatch([3, 1, 2], [0, 2, 2, 3], [2, 4, 1]);
        batch.RightHandSideLength.Should().Be(5);
        batch.FactorLength.Should().Be(5);
        batch.RightHandSideOffset(2).Should().Be(4);
        (batch.MaxOrder, batch.MaxIndex, batch.Count).Should().Be((2, 3, 3));
    }
}
