using System.Numerics;

namespace FeatureLearning.Compute;

/// <summary>
/// The non-zero pattern of a row-major matrix by rows (compressed sparse rows), for the CPU kernel matrix's inner products
/// xᵀMz with a sparse Z (one-hot inputs: two non-zeros in 122 columns for grokking): (XM)_i · z_j is then a sum over z_j's
/// non-zeros instead of a d-long dot product in a GEMM tile.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
internal sealed class SparseRows<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// The largest average number of non-zeros per row, as a fraction of the columns, for which <see cref="Detect"/> returns
    /// a pattern: an entry costs one multiply-add per non-zero of z_j (with scattered loads) here, 2d flops in a GEMM tile.
    /// </summary>
    public const int DensityDivisor = 16;

    private SparseRows(int[] start, int[] columns, T[] values)
    {
        (Start, Columns, Values) = (start, columns, values);
        int rows = start.Length - 1;
        int first = rows > 0 ? start[1] : 0;
        bool uniform = true;
        for (int i = 1; uniform && i < rows; i++)
        {
            uniform = start[i + 1] - start[i] == first;
        }

        PerRow = uniform ? first : -1;
    }

    /// <summary>The number of non-zeros of every row when all rows have the same (one-hot pairs: 2); −1 otherwise.</summary>
    public int PerRow { get; }

    /// <summary>rows + 1 offsets: row i holds entries Start[i] … Start[i + 1] − 1.</summary>
    public int[] Start { get; }

    /// <summary>The column of each non-zero, row by row.</summary>
    public int[] Columns { get; }

    /// <summary>The value of each non-zero.</summary>
    public T[] Values { get; }

    /// <summary>
    /// The pattern of <paramref name="data"/> (rows × cols) when it has at most cols / <see cref="DensityDivisor"/> non-zeros
    /// per row on average; null otherwise (the dense GEMM is then as fast).
    /// </summary>
    public static SparseRows<T>? Detect(ReadOnlySpan<T> data, int rows, int cols)
    {
        if (rows == 0 || cols < DensityDivisor)
        {
            return null;
        }

        long limit = (long)rows * cols / DensityDivisor;
        long count = CountNonZeros(data.Slice(0, rows * cols), limit);
        if (count > limit)
        {
            return null;
        }

        var start = new int[rows + 1];
        var columns = new int[count];
        var values = new T[count];
        int t = 0, width = System.Runtime.Intrinsics.Vector256<T>.Count;
        bool vector = Managed.SimdSetting.Use256;
        for (int i = 0; i < rows; i++)
        {
            var row = data.Slice(i * cols, cols);
            int j = 0;
            if (vector)
            {
                // A vector of columns at a time: the bits of its non-zeros (NaN included, −0 not), lowest first.
                for (; j <= cols - width; j += width)
                {
                    uint bits = NonZeroBits(row.Slice(j, width));
                    while (bits != 0)
                    {
                        int b = BitOperations.TrailingZeroCount(bits);
                        (columns[t], values[t]) = (j + b, row[j + b]);
                        t++;
                        bits &= bits - 1;
                    }
                }
            }

            for (; j < cols; j++)
            {
                if (row[j] != T.Zero)
                {
                    (columns[t], values[t]) = (j, row[j]);
                    t++;
                }
            }

            start[i + 1] = t;
        }

        return new SparseRows<T>(start, columns, values);
    }

    /// <summary>The non-zeros of <paramref name="data"/>, counted until they pass <paramref name="limit"/> (then some count above it).</summary>
    private static long CountNonZeros(ReadOnlySpan<T> data, long limit)
    {
        long count = 0;
        int i = 0, width = System.Runtime.Intrinsics.Vector256<T>.Count;
        if (Managed.SimdSetting.Use256)
        {
            for (; i <= data.Length - width; i += width)
            {
                count += BitOperations.PopCount(NonZeroBits(data.Slice(i, width)));
                if (count > limit)
                {
                    return count;
                }
            }
        }

        for (; i < data.Length; i++)
        {
            if (data[i] != T.Zero && ++count > limit)
            {
                return count;
            }
        }

        return count;
    }

    /// <summary>Bit k set where element k of the vector-long <paramref name="values"/> is not zero (x != 0: NaN is, −0 is not).</summary>
    private static uint NonZeroBits(ReadOnlySpan<T> values)
    {
        var v = System.Runtime.Intrinsics.Vector256.Create(values);
        uint zeros = System.Runtime.Intrinsics.Vector256.ExtractMostSignificantBits(System.Runtime.Intrinsics.Vector256.Equals(v, System.Runtime.Intrinsics.Vector256<T>.Zero));
        return ~zeros & ((1u << System.Runtime.Intrinsics.Vector256<T>.Count) - 1);
    }

    /// <summary>
    /// result[i, j] = Σ_t a[i, Columns[t]]·Values[t] over the non-zeros t of row j, for the tile of rows i0 … i0 + rows − 1 of
    /// the dense <paramref name="a"/> (leading dimension <paramref name="lda"/>) and rows j0 … j0 + cols − 1 of this pattern,
    /// into <paramref name="result"/> (leading dimension <paramref name="ldr"/>, the tile at row i0, column j0).
    /// </summary>
    public unsafe void MultiplyTile(T* a, int lda, int i0, int rows, int j0, int cols, T* result, int ldr)
    {
        fixed (int* start = Start, column = Columns)
        fixed (T* value = Values)
        {
            for (int i = i0; i < i0 + rows; i++)
            {
                T* ai = a + ((long)i * lda);
                T* ri = result + ((long)i * ldr);
                if (PerRow == 2)
                {
                    // Two non-zeros in every row (one-hot pairs): no offsets to read, no inner loop.
                    for (int j = j0, t = 2 * j0; j < j0 + cols; j++, t += 2)
                    {
                        ri[j] = (ai[column[t]] * value[t]) + (ai[column[t + 1]] * value[t + 1]);
                    }

                    continue;
                }

                for (int j = j0; j < j0 + cols; j++)
                {
                    T sum = T.Zero;
                    for (int t = start[j]; t < start[j + 1]; t++)
                    {
                        sum += ai[column[t]] * value[t];
                    }

                    ri[j] = sum;
                }
            }
        }
    }

    /// <summary>The column means of the matrix (d columns), in double.</summary>
    public double[] ColumnMeans(int d)
    {
        var sums = new double[d];
        for (int t = 0; t < Columns.Length; t++)
        {
            sums[Columns[t]] += double.CreateTruncating(Values[t]);
        }

        int rows = Math.Max(1, Start.Length - 1);
        for (int j = 0; j < d; j++)
        {
            sums[j] /= rows;
        }

        return sums;
    }

    /// <summary>The mean over rows of xᵀMx (M as in <see cref="KernelCentring.MeanIsSmall{T}"/>), from the non-zeros.</summary>
    public double MeanQuadratic(ReadOnlySpan<T> metric, int d)
    {
        double sum = 0;
        for (int i = 0; i < Start.Length - 1; i++)
        {
            for (int s = Start[i]; s < Start[i + 1]; s++)
            {
                for (int t = Start[i]; t < Start[i + 1]; t++)
                {
                    sum += double.CreateTruncating(Values[s]) * KernelCentring.MetricEntry(metric, d, Columns[s], Columns[t]) * double.CreateTruncating(Values[t]);
                }
            }
        }

        return sum / Math.Max(1, Start.Length - 1);
    }

    /// <summary>
    /// result = this · B for a dense <paramref name="b"/> (cols × <paramref name="width"/>, leading dimension
    /// <paramref name="ldb"/>): row i is Σ_t Values[t]·B[Columns[t], ·] over row i's non-zeros, into <paramref name="result"/>
    /// (rows × width, contiguous).
    /// </summary>
    public unsafe void MultiplyDense(T* b, int ldb, int width, Span<T> result)
    {
        result.Clear();
        for (int i = 0; i < Start.Length - 1; i++)
        {
            var row = result.Slice(i * width, width);
            for (int t = Start[i]; t < Start[i + 1]; t++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(b + ((long)Columns[t] * ldb), width), Values[t], row, row);
            }
        }
    }
}
