using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// <see cref="SparseRows{T}.Detect"/> against a scan of every element: the same offsets, columns and values, on widths
/// that are and are not a multiple of the vector length, with non-zeros in the last columns, NaN (a non-zero), −0 (a
/// zero), and densities on both sides of the limit of one non-zero in <see cref="SparseRows{T}.DensityDivisor"/> entries.
/// </summary>
public sealed class SparseRowsTests
{
    [Theory]
    [InlineData(1, 48, 1)]
    [InlineData(7, 64, 2)]
    [InlineData(50, 122, 2)]
    [InlineData(33, 37, 1)]
    [InlineData(64, 1000, 30)]
    public void DetectFindsEveryNonZeroInOrder(int rows, int cols, int perRow)
    {
        Check<double>(rows, cols, perRow, seed: rows + cols);
        Check<float>(rows, cols, perRow, seed: rows + cols);
    }

    [Fact]
    public void DenserThanTheLimitGivesNoPattern()
    {
        const int rows = 40, cols = 64;
        var data = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            // Five non-zeros per row of 64: above the limit of four.
            for (int k = 0; k < 5; k++)
            {
                data[(i * cols) + (k * 13)] = 1;
            }
        }

        SparseRows<double>.Detect(data, rows, cols).Should().BeNull();
        for (int i = 0; i < rows; i++)
        {
            data[(i * cols) + 52] = 0;
        }

        SparseRows<double>.Detect(data, rows, cols).Should().NotBeNull("four non-zeros per row of 64 is the limit");
    }

    private static void Check<T>(int rows, int cols, int perRow, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        var data = new T[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            for (int k = 0; k < perRow; k++)
            {
                data[(i * cols) + rng.Next(cols)] = T.CreateTruncating(rng.NextDouble() - 0.5);
            }

            // The last column, a NaN and a negative zero in some rows.
            if (i % 3 == 0)
            {
                data[(i * cols) + cols - 1] = T.CreateTruncating(2.5);
            }

            if (i % 5 == 1)
            {
                data[(i * cols) + (i % cols)] = T.NaN;
            }

            if (i % 4 == 2)
            {
                data[(i * cols) + ((i + 1) % cols)] = T.NegativeZero;
            }
        }

        var pattern = SparseRows<T>.Detect(data, rows, cols);
        pattern.Should().NotBeNull();
        var start = new List<int> { 0 };
        var columns = new List<int>();
        var values = new List<T>();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                T v = data[(i * cols) + j];
                if (v != T.Zero)
                {
                    columns.Add(j);
                    values.Add(v);
                }
            }

            start.Add(columns.Count);
        }

        string what = $"{typeof(T).Name}, {rows} × {cols}";
        pattern!.Start.Should().Equal(start, what);
        pattern.Columns.Should().Equal(columns, what);
        pattern.Values.Select(v => T.IsNaN(v) ? "NaN" : v.ToString()).Should().Equal(values.Select(v => T.IsNaN(v) ? "NaN" : v.ToString()), what);
        columns.Count.Should().BeGreaterThan(rows * Math.Min(perRow, 1), what);
    }
}
