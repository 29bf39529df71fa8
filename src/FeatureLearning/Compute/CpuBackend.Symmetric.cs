using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Compute;

/// <summary>
/// The mixed-precision solve's passes over a symmetric matrix held in its lower triangle: the conversion to single precision
/// with the Frobenius norm, and the refinement's residual product. Each reads the lower triangle alone, half of the n × n
/// matrix, where a conversion, a norm and a GEMM over the whole matrix each read all of it; all three are memory-bound.
/// </summary>
public abstract unsafe partial class CpuBackend
{
    /// <summary>
    /// Row parts of the symmetric passes, of equal lower-triangle area, independent of <see cref="Threads"/> so that the
    /// order of every sum, hence the result, does not depend on the thread count.
    /// </summary>
    internal const int SymmetricParts = 8;

    /// <summary>Columns per block of a row in <see cref="SymmetricMultiplyLower{T}"/> (8 KiB of doubles; with several columns the block is read from L1 for each).</summary>
    private const int SymmetricBlock = 1024;

    /// <summary>
    /// Writes the lower triangle (diagonal included) of the symmetric <paramref name="a"/> into <paramref name="lower"/> in the
    /// destination's precision, and returns ‖A‖_F of the whole symmetric matrix from that triangle (diagonal squares plus twice
    /// the strictly lower squares, summed in double in row order). The strictly upper triangle of <paramref name="lower"/> is
    /// not written; the upper triangle of <paramref name="a"/> is not read.
    /// </summary>
    /// <typeparam name="TSource">The source precision.</typeparam>
    /// <typeparam name="TDestination">The destination precision.</typeparam>
    /// <param name="a">A, n × n.</param>
    /// <param name="lower">The n × n destination.</param>
    /// <returns>‖A‖_F (infinite or NaN when an element of the triangle is).</returns>
    internal double ConvertLowerWithNorm<TSource, TDestination>(DeviceBuffer<TSource> a, DeviceBuffer<TDestination> lower)
        where TSource : unmanaged, IFloatingPointIeee754<TSource>
        where TDestination : unmanaged, IFloatingPointIeee754<TDestination>
    {
        var (ma, ml) = (Own(a, nameof(a)), Own(lower, nameof(lower)));
        Shapes.CheckSquare(a, nameof(a));
        Shapes.CheckConvert(a, lower);
        int n = a.Rows;
        var rowSums = new double[n];
        int[] bounds = TriangleParts(n, SymmetricParts);
        Managed.ComputeThreads.For(SymmetricParts, Threads, part =>
        {
            for (int i = bounds[part]; i < bounds[part + 1]; i++)
            {
                var row = ma.Row(i)[..(i + 1)];
                TensorPrimitives.ConvertTruncating<TSource, TDestination>(row, ml.Row(i)[..(i + 1)]);
                double strict = SumOfSquaresInDouble<TSource>(row[..i]);
                double diagonal = double.CreateTruncating(row[i]);
                rowSums[i] = (2 * strict) + (diagonal * diagonal);
            }
        });

        double sum = 0;
        foreach (double v in rowSums)
        {
            sum += v;
        }

        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Y ← α·A·X + β·Y for the symmetric <paramref name="a"/> held in its lower triangle (the upper is not read): each row's
    /// strictly lower part is read once for both of its uses, its dot products with X (row i of A·X) and its contribution
    /// x_i·A[i, 0..i) to the rows above, which each of <see cref="SymmetricParts"/> row parts sums privately.
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="alpha">α.</param>
    /// <param name="a">A, n × n.</param>
    /// <param name="x">X, n × c.</param>
    /// <param name="beta">β.</param>
    /// <param name="y">Y, n × c, not X.</param>
    internal void SymmetricMultiplyLower<T>(T alpha, DeviceBuffer<T> a, DeviceBuffer<T> x, T beta, DeviceBuffer<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ma, mx, my) = (Own(a, nameof(a)), Own(x, nameof(x)), Own(y, nameof(y)));
        Shapes.CheckGemm(Transpose.None, Transpose.None, a, x, y, out int n, out int c, out _);
        Shapes.CheckSquare(a, nameof(a));
        if (n == 0 || c == 0)
        {
            return;
        }

        // X transposed (c × n), so that each column is contiguous; the own rows' products (c × n) and each part's sums for
        // the rows above its own (c × n each, only their leading columns used).
        var xt = new T[(long)c * n];
        for (int i = 0; i < n; i++)
        {
            var row = mx.Row(i);
            for (int k = 0; k < c; k++)
            {
                xt[((long)k * n) + i] = row[k];
            }
        }

        var own = new T[(long)c * n];
        var scatter = new T[(long)SymmetricParts * c * n];
        int[] bounds = TriangleParts(n, SymmetricParts);
        Managed.ComputeThreads.For(SymmetricParts, Threads, part =>
        {
            int first = bounds[part], end = bounds[part + 1];
            var sums = scatter.AsSpan((int)((long)part * c * n), c * n);
            for (int k = 0; k < c; k++)
            {
                sums.Slice(k * n, end).Clear();
            }

            for (int i = first; i < end; i++)
            {
                var row = ma.Row(i);
                for (int k = 0; k < c; k++)
                {
                    own[((long)k * n) + i] = row[i] * xt[((long)k * n) + i];
                }

                for (int j0 = 0; j0 < i; j0 += SymmetricBlock)
                {
                    int len = Math.Min(SymmetricBlock, i - j0);
                    var block = row.Slice(j0, len);
                    for (int k = 0; k < c; k++)
                    {
                        own[((long)k * n) + i] += DotAndAddScaled<T>(block, xt.AsSpan((k * n) + j0, len), xt[((long)k * n) + i], sums.Slice((k * n) + j0, len));
                    }
                }
            }
        });

        // y_i = β·y_i + α·(own_i + the sums of row i's part and of the parts below it, in part order: a part's sums hold the
        // contributions of its rows to the rows above each of them, and every part cleared its sums up to its last row).
        Managed.ComputeThreads.For(SymmetricParts, Threads, part =>
        {
            for (int i = bounds[part]; i < bounds[part + 1]; i++)
            {
                var yi = my.Row(i);
                for (int k = 0; k < c; k++)
                {
                    T v = own[((long)k * n) + i];
                    for (int q = part; q < SymmetricParts; q++)
                    {
                        v += scatter[((long)q * c * n) + ((long)k * n) + i];
                    }

                    yi[k] = (beta == T.Zero ? T.Zero : beta * yi[k]) + (alpha * v);
                }
            }
        });
    }

    /// <summary>Σ v² in double: a double source through <see cref="TensorPrimitives.SumOfSquares{T}(ReadOnlySpan{T})"/>, any other widened first (a float sum of squares overflows from about 1.8e19).</summary>
    private static double SumOfSquaresInDouble<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            return TensorPrimitives.SumOfSquares(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(values));
        }

        double sum = 0;
        foreach (T v in values)
        {
            double d = double.CreateTruncating(v);
            sum += d * d;
        }

        return sum;
    }

    /// <summary>Returns a·x and adds s·a to <paramref name="sums"/>, in one pass over a (a, x and sums of one length).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static T DotAndAddScaled<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> x, T s, Span<T> sums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int len = a.Length, j = 0;
        T dot = T.Zero;
        ref T ra = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref T rx = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref T rs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(sums);
        // The SIMD setting is read here, not held in a static field: a bad FEATURELEARNING_SIMD must fail the backend's
        // constructor with its own message, not CpuBackend's type initializer.
        if (Managed.SimdSetting.Use512 && len >= Vector512<T>.Count)
        {
            var acc0 = Vector512<T>.Zero;
            var acc1 = Vector512<T>.Zero;
            var sv = Vector512.Create(s);
            int w = Vector512<T>.Count;
            for (; j + (2 * w) <= len; j += 2 * w)
            {
                var a0 = Vector512.LoadUnsafe(ref ra, (nuint)j);
                var a1 = Vector512.LoadUnsafe(ref ra, (nuint)(j + w));
                acc0 += a0 * Vector512.LoadUnsafe(ref rx, (nuint)j);
                acc1 += a1 * Vector512.LoadUnsafe(ref rx, (nuint)(j + w));
                ((a0 * sv) + Vector512.LoadUnsafe(ref rs, (nuint)j)).StoreUnsafe(ref rs, (nuint)j);
                ((a1 * sv) + Vector512.LoadUnsafe(ref rs, (nuint)(j + w))).StoreUnsafe(ref rs, (nuint)(j + w));
            }

            for (; j + w <= len; j += w)
            {
                var a0 = Vector512.LoadUnsafe(ref ra, (nuint)j);
                acc0 += a0 * Vector512.LoadUnsafe(ref rx, (nuint)j);
                ((a0 * sv) + Vector512.LoadUnsafe(ref rs, (nuint)j)).StoreUnsafe(ref rs, (nuint)j);
            }

            dot = Vector512.Sum(acc0 + acc1);
        }
        else if (Managed.SimdSetting.Use256 && len >= Vector256<T>.Count)
        {
            var acc0 = Vector256<T>.Zero;
            var sv = Vector256.Create(s);
            int w = Vector256<T>.Count;
            for (; j + w <= len; j += w)
            {
                var a0 = Vector256.LoadUnsafe(ref ra, (nuint)j);
                acc0 += a0 * Vector256.LoadUnsafe(ref rx, (nuint)j);
                ((a0 * sv) + Vector256.LoadUnsafe(ref rs, (nuint)j)).StoreUnsafe(ref rs, (nuint)j);
            }

            dot = Vector256.Sum(acc0);
        }

        for (; j < len; j++)
        {
            dot += a[j] * x[j];
            sums[j] += a[j] * s;
        }

        return dot;
    }

    /// <summary>
    /// Row boundaries of <paramref name="parts"/> parts of an n × n lower triangle with about equal areas: part q holds rows
    /// bounds[q] … bounds[q + 1] − 1, and bounds[parts] = n.
    /// </summary>
    internal static int[] TriangleParts(int n, int parts)
    {
        var bounds = new int[parts + 1];
        for (int q = 1; q < parts; q++)
        {
            bounds[q] = Math.Clamp((int)Math.Round(n * Math.Sqrt((double)q / parts)), bounds[q - 1], n);
        }

        bounds[parts] = n;
        return bounds;
    }
}
