using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// <see cref="SparseRows{T}.Detect"/> against a scan of every element: the same offsets, columns and values, on widths
/// that are and are not a multiple of the vector length, with non-zeros in the last columns, NaN (a non-zero), −0 (a
/// zero), and densities on both sides of the limit of one non-zero in <see cref="SparseRows{T}.DensityDivisor"/> entries;
/// and <see cref="SparseRows{T}.MultiplyTile"/> against the dense product.
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

    /// <summary>
    /// <see cref="SparseRows{T}.MultiplyTile"/> against the dense product A·Zᵀ summed in double, for patterns with two
    /// non-zeros per row (the gathered path, one-hot and general values) and with one and three (the scalar loops); tiles that
    /// start past the first row and column and whose widths leave gather tails. Where the gathers run (AVX2, not restricted by
    /// FEATURELEARNING_SIMD), the result equals the scalar loop's bit for bit; elsewhere both calls take the scalar loop and the
    /// dense product is the check.
    /// </summary>
    [Theory]
    [InlineData(2, true, 0, 37)]
    [InlineData(2, false, 5, 29)]
    [InlineData(2, false, 8, 64)]
    [InlineData(1, false, 3, 21)]
    [InlineData(3, true, 1, 40)]
    public unsafe void MultiplyTileMatchesTheDenseProduct(int perRow, bool oneHot, int j0, int cols)
    {
        MultiplyTile<double>(perRow, oneHot, j0, cols);
        MultiplyTile<float>(perRow, oneHot, j0, cols);
    }

    private static unsafe void MultiplyTile<T>(int perRow, bool oneHot, int j0, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int d = 64, n = 9, m = 80, i0 = 2, rows = 5;
        var rng = new Random(perRow + cols);
        var z = new T[m * d];
        for (int j = 0; j < m; j++)
        {
            // Distinct columns, in blocks of d / perRow so that a one-hot row has one non-zero per block.
            for (int k = 0; k < perRow; k++)
            {
                int block = d / perRow;
                z[(j * d) + (k * block) + rng.Next(block)] = oneHot ? T.One : T.CreateTruncating(rng.NextDouble() - 0.5);
            }
        }

        var a = new T[n * d];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = T.CreateTruncating(rng.NextDouble() - 0.5);
        }

        var pattern = SparseRows<T>.Detect(z, m, d)!;
        pattern.PerRow.Should().Be(perRow);
        var gathered = new T[n * m];
        var scalar = new T[n * m];
        bool saved = SparseRows<T>.Gathers;
        try
        {
            fixed (T* ap = a, gp = gathered, sp = scalar)
            {
                SparseRows<T>.Gathers = true;
                pattern.MultiplyTile(ap, d, i0, rows, j0, cols, gp, m);
                SparseRows<T>.Gathers = false;
                pattern.MultiplyTile(ap, d, i0, rows, j0, cols, sp, m);
            }
        }
        finally
        {
            SparseRows<T>.Gathers = saved;
        }

        double tolerance = typeof(T) == typeof(float) ? 1e-6 : 1e-15;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                bool inside = i >= i0 && i < i0 + rows && j >= j0 && j < j0 + cols;
                double expected = 0;
                for (int l = 0; l < d; l++)
                {
                    expected += double.CreateTruncating(a[(i * d) + l]) * double.CreateTruncating(z[(j * d) + l]);
                }

                string where = $"{typeof(T).Name}, {perRow} per row, one-hot {oneHot}, [{i}, {j}]";
                if (!inside)
                {
                    gathered[(i * m) + j].Should().Be(T.Zero, where + " lies outside the tile");
                    continue;
                }

                double.CreateTruncating(gathered[(i * m) + j]).Should().BeApproximately(expected, tolerance, where);
                gathered[(i * m) + j].Should().Be(scalar[(i * m) + j], where + ": gathered and scalar agree bit for bit");
            }
        }
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
