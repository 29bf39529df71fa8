using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Compute.Managed;

/// <summary>
/// The gradients of the AGOP's sparse direct form in one register-blocked pass, for centres X_c whose columns are sparse
/// (one-hot inputs): R[l, j·c + k] = x_jl·s_jk − Σ_{t ∈ column l} W'[j, i_t]·B[t, k], where t runs over the non-zeros of
/// column l of X_c (at rows i_t) and B[t, ·] = f·v_t·α[i_t, ·] holds each non-zero's coefficients, scaled. The generic form
/// gathers W'[:, I_l] and runs one small GEMM per column l (k = the column's non-zero count, about 30 for grokking), which
/// spends more in packing and calls than in flops; here twelve sample rows and sixteen (double) or thirty-two (single)
/// outputs are held in 24 AVX-512 accumulators while the column's non-zeros stream past; the twelve rows of W' are
/// interleaved once per row block and B is packed by output block, so one block of it is contiguous. The gradients of one
/// row block and one output block (d × 12·16 in double) have their outer products added by <see cref="LowerRankUpdate{T}"/>
/// as soon as they are built, so that what a worker holds between the two steps stays small (187 KB for grokking's d = 122
/// in double, against 714 KB for all of a row block's outputs).
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
internal static unsafe class SparseGradientKernel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Sample rows per register block.</summary>
    public const int RowBlock = 12;

    /// <summary>Vectors of outputs per register block.</summary>
    private const int VectorBlock = 2;

    /// <summary>Outputs per register block: <see cref="VectorBlock"/> AVX-512 vectors.</summary>
    public static int OutputBlock => VectorBlock * Vector512<T>.Count;

    /// <summary>
    /// Whether the kernel runs here: AVX-512 (its 32 vector registers hold the 24 accumulators), not restricted by
    /// <see cref="SimdSetting"/>, for <see cref="float"/> or <see cref="double"/>.
    /// </summary>
    public static bool Supported => PackedGemm<T>.SimdBits == 512 && System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported;

    /// <summary>Padded length of a packed coefficient array for <paramref name="nonZeros"/> non-zeros and <paramref name="c"/> outputs.</summary>
    public static long PackedLength(int nonZeros, int c) => (long)Blocks(c) * OutputBlock * nonZeros;

    /// <summary>
    /// Packs the coefficients B[t, k] = scale[t]·α[rows[t], k] (nonZeros × c; α is n × c, row-major) output block by output
    /// block: block b holds B[t, b·OB … b·OB + OB − 1] for every t, zero beyond c, so one block of all non-zeros is contiguous.
    /// </summary>
    /// <remarks>Each non-zero's row of α is read once for all its blocks; whole blocks are VectorBlock vectors each, and only the
    /// last block's padding is cleared (the packed array is written, not cleared first: a pass over 1.9 MB for grokking).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(ReadOnlySpan<T> scale, ReadOnlySpan<int> rows, ReadOnlySpan<T> alpha, int c, Span<T> packed)
    {
        int ob = OutputBlock, nonZeros = scale.Length, blocks = Blocks(c), whole = c / ob, v = Vector512<T>.Count;
        if (packed.Length < PackedLength(nonZeros, c))
        {
            throw new ArgumentException($"The packed coefficients need {PackedLength(nonZeros, c)} elements, not {packed.Length}.", nameof(packed));
        }

        for (int t = 0; t < nonZeros; t++)
        {
            var source = alpha.Slice(rows[t] * c, c);
            var f = Vector512.Create(scale[t]);
            for (int b = 0; b < whole; b++)
            {
                var row = packed.Slice((int)((((long)b * nonZeros) + t) * ob), ob);
                var from = source.Slice(b * ob, ob);
                for (int q = 0; q < VectorBlock; q++)
                {
                    (Vector512.Create((ReadOnlySpan<T>)from.Slice(q * v, v)) * f).CopyTo(row.Slice(q * v, v));
                }
            }

            if (whole < blocks)
            {
                int k0 = whole * ob, width = c - k0;
                var row = packed.Slice((int)((((long)whole * nonZeros) + t) * ob), ob);
                for (int k = 0; k < width; k++)
                {
                    row[k] = source[k0 + k] * scale[t];
                }

                row.Slice(width).Clear();
            }
        }
    }

    /// <summary>
    /// H += RRᵀ on and below the diagonal (d × d, leading dimension <paramref name="ldh"/>) for the gradients R (d × rows·c)
    /// of the derivative weights W' (rows × <paramref name="n"/>, leading dimension <paramref name="ldw"/>), the column pattern
    /// of X_c (<paramref name="start"/>, <paramref name="centreRows"/>), the packed coefficients and, unless
    /// <paramref name="s"/> is null, the sample rows X_s (rows × d) with S (rows × c). R is never formed whole: each worker
    /// builds the gradients of twelve sample rows and one output block at a time (d × 12·<see cref="OutputBlock"/>, cached) and
    /// adds their outer products to a private H (<see cref="LowerRankUpdate{T}"/>); the private sums are added to H at the end. The row blocks are split into up to
    /// <see cref="Parts"/> contiguous parts (fewer where their d × d sums would pass <see cref="PartsMemory"/>) that the
    /// workers claim one at a time, each with its own H, summed in order
    /// (<see cref="PackedGemm{T}.SumParts"/>): on a machine whose processors are shared, a worker held back leaves parts to
    /// the others, and the result does not depend on the number of workers.
    /// With a one-hot <paramref name="group"/> of X_c's columns (<see cref="FeatureLearning.Rfm.SparseColumns.OneHotGroup"/>),
    /// S is not read but written: every centre has exactly one non-zero, of value 1, in the group's columns, so the sum of
    /// the gradients' rows over the group, before the x·s terms, is −f·Σ_i W[j, i]·α[i, ·] = −S_j (f the factor the packed
    /// coefficients carry, W the weights given), which the kernel has built already; a GEMM over W is saved. With
    /// <paramref name="rowSums"/>, rowSums[j] += <paramref name="rowSumScale"/>·Σ_i W[j, i] (the centring's W'1 with the
    /// factor f as the scale, read from the rows of W while they are in cache).
    /// </summary>
    /// <remarks>With <paramref name="fromKernel"/>, <paramref name="w"/> is not W but a symmetric n × n kernel matrix K whose
    /// strict upper triangle holds the kernel's values (its lower triangle and diagonal may hold anything: a Cholesky factor
    /// written over them), the sample rows are the centres <paramref name="rowOffset"/> … <paramref name="rowOffset"/> +
    /// rows − 1, and W[j, i] = <paramref name="weightScale"/>·K[min(i, j), max(i, j)] for i ≠ j and 0 for i = j: the kernel
    /// for which ∂k/∂u = scale·k (the Gaussian). The diagonal term drops out of the gradient at x_j, whose factor x_j − x_j
    /// is zero; read as zero in S, the gradients and the row sums alike, it changes S and the row sums but neither the gradients
    /// nor the centred mean gradient, and no m × n W is needed.</remarks>
    public static void AddOuterProducts(
        int rows, int n, int d, int c, T* w, int ldw, int[] start, int[] centreRows, T* packed, T* s, int lds, T* xs, int ldxs, T* h, int ldh, int threads,
        int[]? group = null, T* rowSums = null, T rowSumScale = default, bool fromKernel = false, T weightScale = default, int rowOffset = 0)
    {
        int blocks = (rows + RowBlock - 1) / RowBlock;
        if (blocks == 0)
        {
            return;
        }

        // At most Parts, and no more than 64 MiB of private sums unless there are more workers than that allows.
        int parts = (int)Math.Min(blocks, Math.Max(Math.Max(1, threads), Math.Min(Parts, PartsMemory / ((long)d * d * sizeof(T)))));
        int perPart = (blocks + parts - 1) / parts;
        parts = (blocks + perPart - 1) / perPart;
        var args = new Arguments(rows, d, c, w, ldw, packed, s, lds, xs, ldxs, group, rowSums, rowSumScale, LowerRankUpdate<T>.EightRowEdgesOnThisThread ?? false)
        {
            FromKernel = fromKernel,
            WeightScale = weightScale,
            RowOffset = rowOffset,
        };
        PackedGemm<T>.SumParts(parts, Math.Max(1, threads), d, d, h, ldh, lowerOnly: true, overwrite: false, (part, hw) =>
        {
            fixed (T* hp = hw)
            {
                Range(args, start, centreRows, part * perPart, Math.Min(blocks, (part + 1) * perPart), n, hp);
            }
        });
    }

    /// <summary>
    /// The most parts the row blocks are split into (<see cref="AddOuterProducts"/>): 16, a part of grokking's 155 row blocks
    /// about 1/16 of the AGOP, so that the last part claimed keeps the other workers waiting little, and 16 private d × d sums.
    /// </summary>
    internal const int Parts = 16;

    /// <summary>
    /// The bytes of private d × d sums beyond one per worker that the parts may take: 64 MiB (16 parts up to d = 724 in double
    /// precision; fewer parts for larger d, never fewer than the workers).
    /// </summary>
    internal const long PartsMemory = 64L << 20;

    private static int Blocks(int c) => (c + OutputBlock - 1) / OutputBlock;

    /// <summary>
    /// The row blocks [<paramref name="b0"/>, <paramref name="b1"/>): each block's twelve rows of W' are interleaved first
    /// (the twelve weights of one centre side by side, so a non-zero's twelve broadcasts read one cache line or two), then
    /// every output block is accumulated column by column into its own d × 12·width gradients (row l at l·12·width, sample
    /// row q's outputs at q·width), whose outer products are added before the next output block: the gradients held stay
    /// small beside the coefficients and W', which took 6–13% less time at best on grokking's AGOP than gradients of
    /// all outputs at once (docs/cpu/2026-11-27-s12/agop-output-blocks.txt).
    /// </summary>
    private static void Range(in Arguments a, int[] start, int[] centreRows, int b0, int b1, int n, T* hw)
    {
        int ob = OutputBlock, nnz = start[a.D];
        T* stage = stackalloc T[RowBlock * ob];
        T** to = stackalloc T*[RowBlock];
        int ldr = RowBlock * ob;

        // R holds one output block's gradients (row l at l·12·width), one output block of padding after them: a partial
        // block's whole-vector stores run past the outputs they own (below).
        T* wp = (T*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)((long)n * RowBlock * sizeof(T)), 64);
        T* r = (T*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(((long)a.D * ldr) + ob) * (nuint)sizeof(T), 64);
        T* scratch = (T*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)LowerRankUpdate<T>.ScratchLength(a.D) * (nuint)sizeof(T), 64);
        T* sums = a.Group is null ? null : (T*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)ldr * (nuint)sizeof(T), 64);
        try
        {
            fixed (int* st = start, ir = centreRows)
            {
                for (int blk = b0; blk < b1; blk++)
                {
                    int j0 = blk * RowBlock, count = Math.Min(RowBlock, a.Rows - j0);
                    if (a.FromKernel)
                    {
                        InterleaveFromKernel(a, a.RowOffset + j0, count, n, wp);
                    }
                    else
                    {
                        Interleave(a, j0, count, n, wp);
                    }

                    if (a.RowSums != null)
                    {
                        AddInterleavedRowSums(wp, n, count, a.RowSumScale, a.RowSums + j0);
                    }

                    for (int kb = 0; kb < Blocks(a.C); kb++)
                    {
                        int k0 = kb * ob, width = Math.Min(ob, a.C - k0), ld = RowBlock * width;
                        T* pb = a.Packed + ((long)kb * nnz * ob);
                        // Every store is two whole vectors: with width < OutputBlock, sample row q's excess lands on row q + 1's
                        // outputs, the last row's on the next column l's row, the last column's in the padding, each written
                        // later (stores go to rising addresses), or on columns past count·width, which nothing reads. Rows past
                        // the end go to the stage.
                        for (int l = 0; l < a.D; l++)
                        {
                            T* row = r + ((long)l * ld);
                            for (int q = 0; q < RowBlock; q++)
                            {
                                to[q] = q < count ? row + ((long)q * width) : stage + (q * ob);
                            }

                            Accumulate(wp, ir + st[l], st[l + 1] - st[l], pb + ((long)st[l] * ob), to);
                        }

                        if (a.Group is not null)
                        {
                            DeriveBlock(a, r, ld, width, k0, j0, count, sums);
                        }

                        if (a.S is not null)
                        {
                            AddSampleBlock(a, r, ld, width, k0, j0, count);
                        }

                        LowerRankUpdate<T>.Add(r, a.D, count * width, ld, hw, a.D, scratch, a.EightRowEdges);
                    }
                }
            }
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(wp);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(r);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(scratch);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(sums);
        }
    }

    /// <summary>
    /// wp[i·12 + q] = W[j0 + q, i] for the block's rows of W (rows × n): the first eight rows
    /// in 8 × 8 blocks transposed in registers where there are eight, the last four of twelve in 4 × 4 blocks; the rest, and
    /// rows past the end (which repeat the last row; their sums go to the stage and are dropped), one by one.
    /// </summary>
    private static void Interleave(in Arguments a, int j0, int count, int n, T* wp)
    {
        int blocked = count >= 8 && Transpose8<T>.Supported ? n / 8 * 8 : 0;

        // With twelve rows, the last four in two 4 × 4 transposes per eight columns.
        bool last4 = count == RowBlock && blocked > 0;
        for (int i0 = 0; i0 < blocked; i0 += 8)
        {
            T* from = a.W + ((long)j0 * a.Ldw) + i0;
            Transpose8<T>.Block(from, a.Ldw, wp + (i0 * RowBlock), RowBlock, T.One, scale: false);
            if (last4)
            {
                from += 8L * a.Ldw;
                Transpose8<T>.Block4(from, a.Ldw, wp + (i0 * RowBlock) + 8, RowBlock, T.One, scale: false);
                Transpose8<T>.Block4(from + 4, a.Ldw, wp + ((i0 + 4) * RowBlock) + 8, RowBlock, T.One, scale: false);
            }
        }

        for (int q = 0; q < RowBlock; q++)
        {
            T* from = a.W + ((long)(j0 + Math.Min(q, count - 1)) * a.Ldw);
            for (int i = q < 8 || last4 ? blocked : 0; i < n; i++)
            {
                wp[(i * RowBlock) + q] = from[i];
            }
        }
    }

    /// <summary>
    /// wp[i·12 + q] = W[j + q, i] for the centres j … j + count − 1 from the strict upper triangle of K (<see cref="AddOuterProducts"/>
    /// with fromKernel): W[j + q, i] = scale·K[i, j + q] for the columns before the block (twelve side by side in row i),
    /// scale·K[j + q, i] after it (eight rows transposed in registers at a time) and K[min, max] within it; zero on the
    /// diagonal and for the rows past the end (q ≥ count), whose sums go to the stage and are dropped.
    /// </summary>
    private static void InterleaveFromKernel(in Arguments a, int j, int count, int n, T* wp)
    {
        T* k = a.W;
        long ldk = a.Ldw;
        T scale = a.WeightScale;
        bool vector = count == RowBlock && Transpose8<T>.Supported;
        for (int i = 0; i < j; i++)
        {
            T* from = k + (i * ldk) + j, to = wp + (i * RowBlock);
            if (i + PrefetchRows < j && System.Runtime.Intrinsics.X86.Sse.IsSupported)
            {
                // Rows a page or more apart defeat the hardware prefetchers: ask for the strip PrefetchRows rows ahead, its
                // twelve entries in at most three cache lines.
                T* ahead = from + (PrefetchRows * ldk);
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(ahead);
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(ahead + (RowBlock / 2));
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(ahead + (RowBlock - 1));
            }

            int q = 0;
            if (vector)
            {
                Transpose8<T>.Row(from, to, scale, scale: true);
                q = 8;
            }

            for (; q < RowBlock; q++)
            {
                to[q] = q < count ? scale * from[q] : T.Zero;
            }
        }

        for (int i = j; i < j + count; i++)
        {
            for (int q = 0; q < RowBlock; q++)
            {
                int row = j + q;
                wp[(i * RowBlock) + q] = q >= count || i == row ? T.Zero : scale * (i < row ? k[(i * ldk) + row] : k[(row * ldk) + i]);
            }
        }

        int after = j + count;
        int blocked = count >= 8 && Transpose8<T>.Supported ? (n - after) / 8 * 8 : 0;
        bool last4 = count == RowBlock && blocked > 0;
        for (int i0 = 0; i0 < blocked; i0 += 8)
        {
            T* from = k + (j * ldk) + after + i0;
            T* to = wp + ((after + i0) * RowBlock);
            Transpose8<T>.Block(from, (int)ldk, to, RowBlock, scale, scale: true);
            if (last4)
            {
                from += 8 * ldk;
                Transpose8<T>.Block4(from, (int)ldk, to + 8, RowBlock, scale, scale: true);
                Transpose8<T>.Block4(from + 4, (int)ldk, to + (4 * RowBlock) + 8, RowBlock, scale, scale: true);
            }
        }

        for (int q = 0; q < RowBlock; q++)
        {
            T* from = k + ((j + Math.Min(q, count - 1)) * ldk);
            for (int i = q < 8 || last4 ? after + blocked : after; i < n; i++)
            {
                wp[(i * RowBlock) + q] = q < count ? scale * from[i] : T.Zero;
            }
        }
    }

    /// <summary>How many rows ahead <see cref="InterleaveFromKernel"/> prefetches the strips of K it copies.</summary>
    private const int PrefetchRows = 16;

    /// <summary>sums[q] += factor·Σ_i wp[i·12 + q] for q &lt; count: the row sums of W from its interleaved rows (the block's rows, stored or read off K, summed while in cache).</summary>
    private static void AddInterleavedRowSums(T* wp, int n, int count, T factor, T* sums)
    {
        // Twelve lanes: eight and four, in two vectors of the widths that hold them.
        T* total = stackalloc T[RowBlock];
        if (typeof(T) == typeof(double))
        {
            Vector512<T> low = default;
            Vector256<T> high = default;
            for (int i = 0; i < n; i++)
            {
                low += Vector512.Load(wp + (i * RowBlock));
                high += Vector256.Load(wp + (i * RowBlock) + 8);
            }

            low.Store(total);
            high.Store(total + 8);
        }
        else
        {
            Vector256<T> low = default;
            Vector128<T> high = default;
            for (int i = 0; i < n; i++)
            {
                low += Vector256.Load(wp + (i * RowBlock));
                high += Vector128.Load(wp + (i * RowBlock) + 8);
            }

            low.Store(total);
            high.Store(total + 8);
        }

        for (int q = 0; q < count; q++)
        {
            sums[q] += factor * total[q];
        }
    }

    /// <summary>
    /// S[j0 + q, k0 … k0 + width) = −Σ_{l ∈ group} R[l, q·width + ·] from one output block's gradients before the x·s terms are
    /// added (they hold −f·Σ_t W[j, i_t]·v_t·α[i_t, ·] over each column's non-zeros, and the group holds every centre once, with
    /// v = 1), so S_j = f·Σ_i W[j, i]·α[i, ·]; <paramref name="sums"/> is scratch of 12·width elements or more.
    /// </summary>
    private static void DeriveBlock(in Arguments a, T* r, int ld, int width, int k0, int j0, int count, T* sums)
    {
        var total = new Span<T>(sums, count * width);
        total.Clear();
        foreach (int l in a.Group!)
        {
            TensorPrimitives.Add(total, new ReadOnlySpan<T>(r + ((long)l * ld), total.Length), total);
        }

        for (int q = 0; q < count; q++)
        {
            TensorPrimitives.Negate(total.Slice(q * width, width), new Span<T>(a.S + ((long)(j0 + q) * a.Lds) + k0, width));
        }
    }

    /// <summary>R[l, q·width + k] += x_jl·s_j,k0+k (j = j0 + q) over the non-zeros x_jl of the block's sample rows, for one output block.</summary>
    private static void AddSampleBlock(in Arguments a, T* r, int ld, int width, int k0, int j0, int count)
    {
        for (int q = 0; q < count; q++)
        {
            T* x = a.Xs + ((long)(j0 + q) * a.Ldxs);
            T* s = a.S + ((long)(j0 + q) * a.Lds) + k0;
            for (int l = 0; l < a.D; l++)
            {
                if (x[l] != T.Zero)
                {
                    T* row = r + ((long)l * ld) + ((long)q * width);
                    for (int k = 0; k < width; k++)
                    {
                        row[k] += x[l] * s[k];
                    }
                }
            }
        }
    }

    /// <summary>to[q][·] = Σ_t W'[q, i_t]·B[t, ·] over one column's non-zeros (B packed negated), for the twelve interleaved rows <paramref name="wp"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate(T* wp, int* ir, int count, T* pb, T** to)
    {
        int v = Vector512<T>.Count;
        Vector512<T> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector512<T> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        Vector512<T> a60 = default, a61 = default, a70 = default, a71 = default, a80 = default, a81 = default;
        Vector512<T> a90 = default, a91 = default, aa0 = default, aa1 = default, ab0 = default, ab1 = default;
        for (int t = 0; t < count; t++, pb += 2 * v)
        {
            T* wi = wp + (ir[t] * RowBlock);
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + v);
            var x = Vector512.Create(wi[0]);
            a00 = PackedGemm<T>.Fma(x, b0, a00);
            a01 = PackedGemm<T>.Fma(x, b1, a01);
            x = Vector512.Create(wi[1]);
            a10 = PackedGemm<T>.Fma(x, b0, a10);
            a11 = PackedGemm<T>.Fma(x, b1, a11);
            x = Vector512.Create(wi[2]);
            a20 = PackedGemm<T>.Fma(x, b0, a20);
            a21 = PackedGemm<T>.Fma(x, b1, a21);
            x = Vector512.Create(wi[3]);
            a30 = PackedGemm<T>.Fma(x, b0, a30);
            a31 = PackedGemm<T>.Fma(x, b1, a31);
            x = Vector512.Create(wi[4]);
            a40 = PackedGemm<T>.Fma(x, b0, a40);
            a41 = PackedGemm<T>.Fma(x, b1, a41);
            x = Vector512.Create(wi[5]);
            a50 = PackedGemm<T>.Fma(x, b0, a50);
            a51 = PackedGemm<T>.Fma(x, b1, a51);
            x = Vector512.Create(wi[6]);
            a60 = PackedGemm<T>.Fma(x, b0, a60);
            a61 = PackedGemm<T>.Fma(x, b1, a61);
            x = Vector512.Create(wi[7]);
            a70 = PackedGemm<T>.Fma(x, b0, a70);
            a71 = PackedGemm<T>.Fma(x, b1, a71);
            x = Vector512.Create(wi[8]);
            a80 = PackedGemm<T>.Fma(x, b0, a80);
            a81 = PackedGemm<T>.Fma(x, b1, a81);
            x = Vector512.Create(wi[9]);
            a90 = PackedGemm<T>.Fma(x, b0, a90);
            a91 = PackedGemm<T>.Fma(x, b1, a91);
            x = Vector512.Create(wi[10]);
            aa0 = PackedGemm<T>.Fma(x, b0, aa0);
            aa1 = PackedGemm<T>.Fma(x, b1, aa1);
            x = Vector512.Create(wi[11]);
            ab0 = PackedGemm<T>.Fma(x, b0, ab0);
            ab1 = PackedGemm<T>.Fma(x, b1, ab1);
        }

        a00.Store(to[0]);
        a01.Store(to[0] + v);
        a10.Store(to[1]);
        a11.Store(to[1] + v);
        a20.Store(to[2]);
        a21.Store(to[2] + v);
        a30.Store(to[3]);
        a31.Store(to[3] + v);
        a40.Store(to[4]);
        a41.Store(to[4] + v);
        a50.Store(to[5]);
        a51.Store(to[5] + v);
        a60.Store(to[6]);
        a61.Store(to[6] + v);
        a70.Store(to[7]);
        a71.Store(to[7] + v);
        a80.Store(to[8]);
        a81.Store(to[8] + v);
        a90.Store(to[9]);
        a91.Store(to[9] + v);
        aa0.Store(to[10]);
        aa1.Store(to[10] + v);
        ab0.Store(to[11]);
        ab1.Store(to[11] + v);
    }

    private readonly struct Arguments(int rows, int d, int c, T* w, int ldw, T* packed, T* s, int lds, T* xs, int ldxs, int[]? group, T* rowSums, T rowSumScale, bool eightRowEdges)
    {
        /// <summary>The caller's <see cref="LowerRankUpdate{T}.EightRowEdgesOnThisThread"/>, for the workers' updates.</summary>
        public readonly bool EightRowEdges = eightRowEdges;

        public readonly int Rows = rows, D = d, C = c, Ldw = ldw, Lds = lds, Ldxs = ldxs;
        public readonly T* W = w, Packed = packed, S = s, Xs = xs, RowSums = rowSums;
        public readonly int[]? Group = group;
        public readonly T RowSumScale = rowSumScale;

        /// <summary>Whether <see cref="W"/> is the kernel matrix K, W read off its strict upper triangle (<see cref="AddOuterProducts"/>).</summary>
        public bool FromKernel { get; init; }

        /// <summary>The factor of K in W (with <see cref="FromKernel"/>).</summary>
        public T WeightScale { get; init; }

        /// <summary>The centre of the first sample row (with <see cref="FromKernel"/>).</summary>
        public int RowOffset { get; init; }
    }
}
