using System.Numerics;
using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// <see cref="SparseGradientKernel{T}.AddOuterProducts"/> on its own: H += RRᵀ for R[l, j·c + k] = Σ_t W'[j, i_t]·B[t, k] over
/// the non-zeros t of column l, against the gradients formed in full in double precision, with row blocks for all 16 parts
/// (<see cref="SparseGradientKernel{T}.Parts"/>; 372 rows, 31 blocks) and for fewer with a partial last part, on one worker
/// and on several: the parts are
/// claimed dynamically but summed in order, so the result must be the same bits whatever the worker count.
/// </summary>
public sealed unsafe class SparseGradientKernelTests
{
    [SkippableTheory]
    [InlineData(250, 20)]
    [InlineData(372, 5)]
    [InlineData(37, 3)]
    [InlineData(400, 17)]
    public void OuterProductsMatchTheFullGradientsAndDoNotDependOnTheWorkers(int rows, int c)
    {
        Skip.IfNot(SparseGradientKernel<double>.Supported, "the kernel needs AVX-512");
        const int n = 90, d = 10;
        var rng = new Random((7 * rows) + c);
        var w = Enumerable.Range(0, rows * n).Select(_ => rng.NextDouble()).ToArray();
        var alpha = Enumerable.Range(0, n * c).Select(_ => rng.NextDouble() - 0.5).ToArray();

        // Centre i has non-zeros in columns i mod d and (i / 3) mod d (once where they coincide), values in [0.5, 1.5).
        var columns = Enumerable.Range(0, d).Select(_ => new List<(int Row, double Value)>()).ToArray();
        for (int i = 0; i < n; i++)
        {
            columns[i % d].Add((i, 0.5 + rng.NextDouble()));
            if ((i / 3) % d != i % d)
            {
                columns[(i / 3) % d].Add((i, 0.5 + rng.NextDouble()));
            }
        }

        var start = new int[d + 1];
        for (int l = 0; l < d; l++)
        {
            start[l + 1] = start[l] + columns[l].Count;
        }

        var centreRows = columns.SelectMany(col => col.Select(e => e.Row)).ToArray();
        var scale = columns.SelectMany(col => col.Select(e => e.Value)).ToArray();
        var packed = new double[SparseGradientKernel<double>.PackedLength(centreRows.Length, c)];
        SparseGradientKernel<double>.Pack(scale, centreRows, alpha, c, packed);

        var expected = new double[d * d];
        var gradient = new double[d];
        for (int j = 0; j < rows; j++)
        {
            for (int k = 0; k < c; k++)
            {
                for (int l = 0; l < d; l++)
                {
                    gradient[l] = 0;
                    for (int t = start[l]; t < start[l + 1]; t++)
                    {
                        gradient[l] += w[(j * n) + centreRows[t]] * scale[t] * alpha[(centreRows[t] * c) + k];
                    }
                }

                for (int a = 0; a < d; a++)
                {
                    for (int b = 0; b <= a; b++)
                    {
                        expected[(a * d) + b] += gradient[a] * gradient[b];
                    }
                }
            }
        }

        var one = Run(rows, n, d, c, w, start, centreRows, packed, threads: 1);
        var several = Run(rows, n, d, c, w, start, centreRows, packed, threads: 3);
        several.Should().Equal(one, "the parts are summed in order whichever worker took them");
        TestMatrices.RelativeError(one, expected).Should().BeLessThan(1e-12);
    }

    private static double[] Run(int rows, int n, int d, int c, double[] w, int[] start, int[] centreRows, double[] packed, int threads)
    {
        var h = new double[d * d];
        fixed (double* wp = w, pp = packed, hp = h)
        {
            SparseGradientKernel<double>.AddOuterProducts(rows, n, d, c, wp, n, start, centreRows, pp, null, 0, null, 0, hp, d, threads);
        }

        // Only the lower triangle is written.
        for (int a = 0; a < d; a++)
        {
            for (int b = a + 1; b < d; b++)
            {
                h[(a * d) + b].Should().Be(0);
            }
        }

        return h;
    }
    /// <summary>
    /// The weights read off the strict upper triangle of a kernel matrix (fromKernel) against the same weights given as W:
    /// W[j, i] = scale·K[min, max] off the diagonal and 0 on it, with NaN in K's lower triangle and diagonal (where a Cholesky
    /// factor lies; reading any of it would spread NaN), for sample rows that start at a centre other than the first, a
    /// partial last row block of fewer than eight rows and of eight to eleven, one worker and three; with S given, and with S
    /// written from a one-hot group and the centring's row sums. The gradients see the same weights in the same order, so H and
    /// S are the same bits; the row sums are summed in another order.
    /// </summary>
    [SkippableTheory]
    [InlineData(150, 0, 150, 1)]
    [InlineData(150, 20, 100, 3)]
    [InlineData(150, 101, 41, 3)]
    [InlineData(97, 3, 94, 1)]
    [InlineData(97, 90, 7, 3)]
    public void WeightsFromTheKernelMatrixAreTheWeightsTheyStandFor(int n, int rowOffset, int rows, int threads)
    {
        Skip.IfNot(SparseGradientKernel<double>.Supported, "the kernel needs AVX-512");
        WeightsFromKernel<double>(n, rowOffset, rows, threads, 1e-13);
        WeightsFromKernel<float>(n, rowOffset, rows, threads, 1e-5f);
    }

    private static void WeightsFromKernel<T>(int n, int rowOffset, int rows, int threads, T tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int d = 14, groupColumns = 6, c = 19;
        var rng = new Random((31 * n) + rowOffset);
        var k = new T[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                k[(i * n) + j] = j > i ? T.CreateTruncating(0.05 + rng.NextDouble()) : T.NaN;
            }
        }

        T scale = T.CreateTruncating(-0.3);
        var w = new T[rows * n];
        for (int q = 0; q < rows; q++)
        {
            int j = rowOffset + q;
            for (int i = 0; i < n; i++)
            {
                w[(q * n) + i] = i == j ? T.Zero : scale * k[(Math.Min(i, j) * n) + Math.Max(i, j)];
            }
        }

        // Centre i: a 1 in group column i mod 6 (a one-hot group) and a value in [0.5, 1.5) in column 6 + (i / 3) mod 8.
        var columns = Enumerable.Range(0, d).Select(_ => new List<(int Row, double Value)>()).ToArray();
        for (int i = 0; i < n; i++)
        {
            columns[i % groupColumns].Add((i, 1));
            columns[groupColumns + ((i / 3) % (d - groupColumns))].Add((i, 0.5 + rng.NextDouble()));
        }

        var start = new int[d + 1];
        for (int l = 0; l < d; l++)
        {
            start[l + 1] = start[l] + columns[l].Count;
        }

        var centreRows = columns.SelectMany(col => col.Select(e => e.Row)).ToArray();
        var scaleOf = columns.SelectMany(col => col.Select(e => T.CreateTruncating(-2 * e.Value))).ToArray();
        var alpha = Enumerable.Range(0, n * c).Select(_ => T.CreateTruncating(rng.NextDouble() - 0.5)).ToArray();
        var packed = new T[SparseGradientKernel<T>.PackedLength(centreRows.Length, c)];
        SparseGradientKernel<T>.Pack(scaleOf, centreRows, alpha, c, packed);
        var xs = new T[rows * d];
        for (int q = 0; q < rows; q++)
        {
            foreach (var (l, col) in columns.Select((col, l) => (l, col)))
            {
                foreach (var (row, value) in col.Where(e => e.Row == rowOffset + q))
                {
                    xs[(q * d) + l] = T.CreateTruncating(value);
                }
            }
        }

        var given = Enumerable.Range(0, rows * c).Select(_ => T.CreateTruncating(rng.NextDouble())).ToArray();
        int[] group = Enumerable.Range(0, groupColumns).ToArray();
        foreach (bool derive in new[] { false, true })
        {
            var (hw, sw, sumsW) = RunWith<T>(false, w, n, rows, 0, T.Zero, d, c, start, centreRows, packed, given, xs, derive ? group : null, threads);
            var (hk, sk, sumsK) = RunWith<T>(true, k, n, rows, rowOffset, scale, d, c, start, centreRows, packed, given, xs, derive ? group : null, threads);
            hk.Should().Equal(hw, $"derive {derive}: the same weights in the same order");
            sk.Should().Equal(sw, $"derive {derive}");
            Array.TrueForAll(hk, T.IsFinite).Should().BeTrue("nothing of the lower triangle or diagonal is read");
            if (derive)
            {
                for (int q = 0; q < rows; q++)
                {
                    T.Abs(sumsK[q] - sumsW[q]).Should().BeLessThanOrEqualTo(tolerance * T.Abs(sumsW[q]), $"row sum {q}");
                }
            }
        }
    }

    private static (T[] H, T[] S, T[] Sums) RunWith<T>(
        bool fromKernel, T[] weights, int n, int rows, int rowOffset, T scale, int d, int c, int[] start, int[] centreRows, T[] packed, T[] given, T[] xs,
        int[]? group, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var h = new T[d * d];
        var s = (T[])given.Clone();
        var sums = new T[rows];
        fixed (T* wp = weights, pp = packed, hp = h, sp = s, xp = xs, up = sums)
        {
            SparseGradientKernel<T>.AddOuterProducts(
                rows, n, d, c, wp, n, start, centreRows, pp, sp, c, xp, d, hp, d, threads, group, group is null ? null : up, T.CreateTruncating(2), fromKernel, scale, rowOffset);
        }

        return (h, s, sums);
    }

    /// <summary>
    /// <see cref="SparseGradientKernel{T}.Pack"/> against its definition: block b holds B[t, b·OB + k] = scale[t]·α[rows[t],
    /// b·OB + k], zero beyond c, every element of the packed length written (the array starts as NaN), for c a whole number
    /// of blocks, with a partial last block, and below one block, in both precisions.
    /// </summary>
    [Theory]
    [InlineData(16)]
    [InlineData(61)]
    [InlineData(5)]
    [InlineData(64)]
    public void PackWritesEveryCoefficientAndZeroPadding(int c)
    {
        Pack<double>(c);
        Pack<float>(c);
    }

    private static void Pack<T>(int c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 23, nonZeros = 41;
        var rng = new Random(c);
        var alpha = Enumerable.Range(0, n * c).Select(_ => T.CreateTruncating(rng.NextDouble() - 0.5)).ToArray();
        var rows = Enumerable.Range(0, nonZeros).Select(_ => rng.Next(n)).ToArray();
        var scale = Enumerable.Range(0, nonZeros).Select(_ => T.CreateTruncating(0.5 + rng.NextDouble())).ToArray();
        long length = SparseGradientKernel<T>.PackedLength(nonZeros, c);
        var packed = Enumerable.Repeat(T.NaN, (int)length + 5).ToArray();
        SparseGradientKernel<T>.Pack(scale, rows, alpha, c, packed);

        int ob = SparseGradientKernel<T>.OutputBlock;
        for (long e = 0; e < length; e++)
        {
            int b = (int)(e / ((long)nonZeros * ob)), t = (int)(e / ob % nonZeros), k = (b * ob) + (int)(e % ob);
            T expected = k < c ? scale[t] * alpha[(rows[t] * c) + k] : T.Zero;
            packed[e].Should().Be(expected, $"{typeof(T).Name}, c = {c}, element {e} (block {b}, non-zero {t}, output {k})");
        }

        packed.Skip((int)length).All(T.IsNaN).Should().BeTrue("nothing past the packed length is written");
    }

    /// <summary>
    /// <see cref="FeatureLearning.Compute.CpuBackend.AddSparseTransposedProduct"/> (the AGOP's centring sums for sparse inputs)
    /// against C + scale·Xᵀ·diag(w)·B formed densely, with B the rows 7 … 7 + 19 of X's 40 (non-zeros outside them skipped),
    /// with and without row weights, in both precisions.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SparseTransposedProductIsTheDenseProduct(bool weighted)
    {
        SparseTransposedProduct<double>(weighted, 1e-13);
        SparseTransposedProduct<float>(weighted, 2e-5);
    }

    private static void SparseTransposedProduct<T>(bool weighted, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int rowsOfX = 40, d = 9, c = 6, offset = 7, rowsOfB = 19;
        var rng = new Random(weighted ? 3 : 4);
        var x = new double[rowsOfX * d];
        for (int i = 0; i < rowsOfX; i++)
        {
            x[(i * d) + (i % d)] = 0.5 + rng.NextDouble();
            x[(i * d) + ((i * 5 / 3) % d)] += rng.NextDouble() - 0.5;
        }

        var start = new int[d + 1];
        var rows = new List<int>();
        var values = new List<double>();
        for (int l = 0; l < d; l++)
        {
            for (int i = 0; i < rowsOfX; i++)
            {
                if (x[(i * d) + l] != 0)
                {
                    rows.Add(i);
                    values.Add(x[(i * d) + l]);
                }
            }

            start[l + 1] = rows.Count;
        }

        var b = Enumerable.Range(0, rowsOfB * c).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var w = Enumerable.Range(0, rowsOfX).Select(_ => rng.NextDouble() + 0.25).ToArray();
        var c0 = Enumerable.Range(0, d * c).Select(_ => rng.NextDouble()).ToArray();
        const double scale = -0.75;
        var expected = (double[])c0.Clone();
        for (int l = 0; l < d; l++)
        {
            for (int k = 0; k < c; k++)
            {
                for (int i = 0; i < rowsOfB; i++)
                {
                    expected[(l * c) + k] += scale * x[((offset + i) * d) + l] * (weighted ? w[offset + i] : 1) * b[(i * c) + k];
                }
            }
        }

        using var be = new FeatureLearning.Compute.ManagedBackend(1);
        using var bb = be.Upload<T>(b.Select(T.CreateTruncating).ToArray(), rowsOfB, c);
        using var wb = be.Upload<T>(w.Select(T.CreateTruncating).ToArray(), rowsOfX, 1);
        using var cb = be.Upload<T>(c0.Select(T.CreateTruncating).ToArray(), d, c);
        be.AddSparseTransposedProduct(start, rows.ToArray(), values.ToArray(), offset, bb, weighted ? wb : null, T.CreateTruncating(scale), cb);
        using var shortWeights = be.Allocate<T>(rowsOfX - 1, 1);
        FluentActions.Invoking(() => be.AddSparseTransposedProduct(start, rows.ToArray(), values.ToArray(), offset, bb, shortWeights, T.One, cb))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rowWeights");
        FluentActions.Invoking(() => be.AddSparseTransposedProduct([1, 2], rows.ToArray(), values.ToArray(), offset, bb, null, T.One, cb))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("start");
        var actual = new T[d * c];
        be.Download(cb, actual);
        for (int e = 0; e < actual.Length; e++)
        {
            double.CreateTruncating(actual[e]).Should().BeApproximately(expected[e], tolerance * (1 + Math.Abs(expected[e])), $"{typeof(T).Name}, weighted {weighted}, element {e}");
        }
    }

    /// <summary><see cref="Transpose8{T}.Block4"/>: dst[c·ldd + r] = α·src[r·lds + c] for r, c &lt; 4, nothing else written, both precisions.</summary>
    [SkippableFact]
    public void Block4TransposesFourRowsOfFour()
    {
        Skip.IfNot(Transpose8<double>.Supported && Transpose8<float>.Supported, "the vector transposes need AVX-512 (double) and AVX (float)");
        Block4<double>();
        Block4<float>();
    }

    private static void Block4<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int lds = 11, ldd = 12;
        var src = Enumerable.Range(0, 4 * lds).Select(i => T.CreateTruncating(i + 1)).ToArray();
        foreach (bool scale in new[] { false, true })
        {
            var dst = Enumerable.Repeat(T.CreateTruncating(-7), 4 * ldd).ToArray();
            fixed (T* sp = src, dp = dst)
            {
                Transpose8<T>.Block4(sp + 1, lds, dp + 2, ldd, T.CreateTruncating(3), scale);
            }

            for (int i = 0; i < dst.Length; i++)
            {
                int col = i / ldd, r = (i % ldd) - 2;
                T expected = r is >= 0 and < 4 ? src[(r * lds) + 1 + col] * (scale ? T.CreateTruncating(3) : T.One) : T.CreateTruncating(-7);
                dst[i].Should().Be(expected, $"{typeof(T).Name}, scale {scale}, element {i}");
            }
        }
    }
}
