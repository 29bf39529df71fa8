using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        int first = rows > 0 ? start[1] : 0, most = first;
        bool uniform = true;
        for (int i = 1; i < rows; i++)
        {
            int count = start[i + 1] - start[i];
            uniform &= count == first;
            most = Math.Max(most, count);
        }

        PerRow = uniform ? first : -1;
        MostPerRow = most;
        Binary = Array.TrueForAll(values, v => v == T.One);
        if (PerRow == 2)
        {
            // Two non-zeros per row: their columns and values split into first and second, for MultiplyTile's gathers.
            pairs = new Pairs(rows, columns, values);
        }
    }

    /// <summary>Whether <see cref="MultiplyTile"/> may gather for patterns with two non-zeros per row (tests and benchmarks switch it off to compare).</summary>
    internal static bool Gathers { get; set; } = true;

    /// <summary>The two non-zeros of every row, split by position (set where <see cref="PerRow"/> is 2).</summary>
    private readonly Pairs? pairs;

    /// <summary>The number of non-zeros of every row when all rows have the same (one-hot pairs: 2); −1 otherwise.</summary>
    public int PerRow { get; }

    /// <summary>The largest number of non-zeros in a row.</summary>
    public int MostPerRow { get; }

    /// <summary>Whether every non-zero is 1 (one-hot and other indicator encodings).</summary>
    public bool Binary { get; }

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
        int t = 0, width = Vector256<T>.Count;
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
        int i = 0, width = Vector256<T>.Count;
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
        var v = Vector256.Create(values);
        uint zeros = Vector256.ExtractMostSignificantBits(Vector256.Equals(v, Vector256<T>.Zero));
        return ~zeros & ((1u << Vector256<T>.Count) - 1);
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
                if (pairs is not null)
                {
                    // Two non-zeros in every row (one-hot pairs): no offsets to read, no inner loop.
                    MultiplyPairs(ai, j0, cols, ri);
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

    /// <summary>
    /// result[j] = a[c₀(j)]·v₀(j) + a[c₁(j)]·v₁(j) for the rows j0 … j0 + cols − 1 of a pattern with two non-zeros per row:
    /// with AVX2, gathers from the dense row <paramref name="a"/> (its d entries stay in L1) instead of two scalar loads and
    /// an index load per non-zero, and a pattern whose values are all 1 (one-hot pairs) skips the products; element by
    /// element after the last whole vector, and throughout without AVX2, where <see cref="Managed.SimdSetting"/> restricts
    /// to scalar code, or with <see cref="Gathers"/> off. Both ways give the same bits.
    /// </summary>
    private unsafe void MultiplyPairs(T* a, int j0, int cols, T* result)
    {
        var p = pairs!;
        int end = j0 + cols, j = j0;
        bool gather = Gathers && Avx2.IsSupported && Managed.SimdSetting.Use256;
        fixed (int* c0 = p.FirstColumn, c1 = p.SecondColumn)
        fixed (T* v0 = p.FirstValue, v1 = p.SecondValue)
        {
            if (gather && typeof(T) == typeof(double))
            {
                double* ad = (double*)a, rd = (double*)result, w0 = (double*)v0, w1 = (double*)v1;
                for (; j <= end - 4; j += 4)
                {
                    var g0 = Avx2.GatherVector256(ad, Vector128.Load(c0 + j), 8);
                    var g1 = Avx2.GatherVector256(ad, Vector128.Load(c1 + j), 8);
                    var r = Binary ? g0 + g1 : (g0 * Vector256.Load(w0 + j)) + (g1 * Vector256.Load(w1 + j));
                    r.Store(rd + j);
                }
            }
            else if (gather && typeof(T) == typeof(float))
            {
                float* af = (float*)a, rf = (float*)result, w0 = (float*)v0, w1 = (float*)v1;
                for (; j <= end - 8; j += 8)
                {
                    var g0 = Avx2.GatherVector256(af, Vector256.Load(c0 + j), 4);
                    var g1 = Avx2.GatherVector256(af, Vector256.Load(c1 + j), 4);
                    var r = Binary ? g0 + g1 : (g0 * Vector256.Load(w0 + j)) + (g1 * Vector256.Load(w1 + j));
                    r.Store(rf + j);
                }
            }

            for (; j < end; j++)
            {
                result[j] = (a[c0[j]] * v0[j]) + (a[c1[j]] * v1[j]);
            }
        }
    }

    /// <summary>
    /// result[i, j] = x[i]·(z[j]·Π_t e[i, Columns[t]]) over the non-zeros t of row j (a <see cref="Binary"/> pattern), for the
    /// tile of rows i0 … i0 + rows − 1 of the dense <paramref name="e"/> (leading dimension <paramref name="lde"/>) and rows
    /// j0 … j0 + cols − 1 of this pattern, into <paramref name="result"/> as in <see cref="MultiplyTile"/>: the Gaussian
    /// kernel e^(c‖x − z‖²) as a product of exponentials computed once per row and column (<c>CpuBackend</c>'s
    /// <c>GaussianFactors</c>), capped at 1 as the exponential path's s ≥ 0 caps it. With two non-zeros per row, AVX2 and
    /// <paramref name="gathers"/>, both factors are gathered; the same bits either way.
    /// </summary>
    public unsafe void MultiplyTileExponential(T* e, int lde, int i0, int rows, int j0, int cols, T* result, int ldr, T* x, T* z, bool gathers)
    {
        System.Diagnostics.Debug.Assert(Binary, "The product of exponentials holds for values of 1 only.");
        bool gather = pairs is not null && gathers && Avx2.IsSupported && Managed.SimdSetting.Use256;
        fixed (int* start = Start, column = Columns)
        fixed (int* c0 = pairs?.FirstColumn, c1 = pairs?.SecondColumn)
        {
            for (int i = i0; i < i0 + rows; i++)
            {
                T* ei = e + ((long)i * lde);
                T* ri = result + ((long)i * ldr);
                T xi = x[i];
                int j = j0, end = j0 + cols;
                if (gather && typeof(T) == typeof(double))
                {
                    double* ed = (double*)ei, rd = (double*)ri, zd = (double*)z;
                    var vx = Vector256.Create(double.CreateTruncating(xi));
                    for (; j <= end - 4; j += 4)
                    {
                        var g0 = Avx2.GatherVector256(ed, Vector128.Load(c0 + j), 8);
                        var g1 = Avx2.GatherVector256(ed, Vector128.Load(c1 + j), 8);
                        Vector256.Min(vx * (Vector256.Load(zd + j) * (g0 * g1)), Vector256<double>.One).Store(rd + j);
                    }
                }
                else if (gather && typeof(T) == typeof(float))
                {
                    float* ef = (float*)ei, rf = (float*)ri, zf = (float*)z;
                    var vx = Vector256.Create(float.CreateTruncating(xi));
                    for (; j <= end - 8; j += 8)
                    {
                        var g0 = Avx2.GatherVector256(ef, Vector256.Load(c0 + j), 4);
                        var g1 = Avx2.GatherVector256(ef, Vector256.Load(c1 + j), 4);
                        Vector256.Min(vx * (Vector256.Load(zf + j) * (g0 * g1)), Vector256<float>.One).Store(rf + j);
                    }
                }

                for (; j < end; j++)
                {
                    // 1·e₀ is e₀ exactly, so two non-zeros give the vector loop's bits.
                    T product = T.One;
                    for (int t = start[j]; t < start[j + 1]; t++)
                    {
                        product *= ei[column[t]];
                    }

                    ri[j] = T.Min(xi * (z[j] * product), T.One);
                }
            }
        }
    }

    /// <summary>The two non-zeros of every row of a pattern with two per row, split into first and second (structure of arrays).</summary>
    private sealed class Pairs
    {
        public Pairs(int rows, int[] columns, T[] values)
        {
            (FirstColumn, SecondColumn, FirstValue, SecondValue) = (new int[rows], new int[rows], new T[rows], new T[rows]);
            for (int i = 0; i < rows; i++)
            {
                (FirstColumn[i], SecondColumn[i]) = (columns[2 * i], columns[(2 * i) + 1]);
                (FirstValue[i], SecondValue[i]) = (values[2 * i], values[(2 * i) + 1]);
            }
        }

        public int[] FirstColumn { get; }

        public int[] SecondColumn { get; }

        public T[] FirstValue { get; }

        public T[] SecondValue { get; }
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
