using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Compute.Managed;

/// <summary>
/// H += RRᵀ on and below the diagonal for a short, wide R (d × k, d small, k long) on one thread, with R packed once: the
/// AGOP's sum of gradient outer products, where the general GEMM would pack R twice (as op(A) and as op(B)) and compute the
/// diagonal in tiles 8 × 3 vectors wide. R is packed into panels of one vector's rows (P = 8 in double, 16 in single
/// precision), k-major; a tile of 8 rows × 1–3 panels broadcasts its rows' values from their panel and loads the columns'
/// vectors from theirs, so the same packed copy serves both sides, and a row's tiles stop at the panel that holds its
/// diagonal.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
internal static unsafe class LowerRankUpdate<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows of a tile.</summary>
    private const int TileRows = 8;

    /// <summary>Columns of R packed at a time: a panel's share (16 KiB in double precision) stays in L1.</summary>
    internal const int Depth = 256;

    /// <summary>Whether the update runs here: AVX-512 with FMA, for <see cref="float"/> or <see cref="double"/>.</summary>
    public static bool Supported => PackedGemm<T>.SimdBits == 512 && Transpose8<T>.Supported;

    /// <summary>Rows of a packed panel: one vector.</summary>
    private static int P => Vector512<T>.Count;

    /// <summary>
    /// Elements of the scratch that <see cref="Add"/> needs for <paramref name="d"/> rows: the packed panels, each one vector
    /// longer than its <see cref="Depth"/> columns (so that panels do not start at the same L1 set), then one stored tile.
    /// </summary>
    public static long ScratchLength(int d) => PanelsLength(d) + (Math.Max(TileRows * 3, ShortRows * 6) * P);

    /// <summary>
    /// H += RRᵀ on and below the diagonal: R is d × <paramref name="k"/> (leading dimension <paramref name="ldr"/>), H is
    /// d × d (leading dimension <paramref name="ldh"/>; the strictly upper triangle is not written). <paramref name="scratch"/>
    /// holds <see cref="ScratchLength"/>(d) elements, 64-byte aligned.
    /// </summary>
    /// <param name="r">R, d × k (leading dimension <paramref name="ldr"/>).</param>
    /// <param name="d">Rows of R and order of H.</param>
    /// <param name="k">Columns of R.</param>
    /// <param name="ldr">Leading dimension of R.</param>
    /// <param name="h">H, d × d (leading dimension <paramref name="ldh"/>).</param>
    /// <param name="ldh">Leading dimension of H.</param>
    /// <param name="scratch"><see cref="ScratchLength"/>(d) elements, 64-byte aligned.</param>
    /// <param name="eightRowEdges">Compute a short last tile row as eight rows (<see cref="EightRowEdgesOnThisThread"/>, which
    /// the calling thread's value gives when this is null: a caller that runs the update on worker threads reads it on its own
    /// thread and passes it).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(T* r, int d, int k, int ldr, T* h, int ldh, T* scratch, bool? eightRowEdges = null)
    {
        bool eight = eightRowEdges ?? EightRowEdgesOnThisThread ?? false;
        int p = P;
        T* tile = scratch + PanelsLength(d);
        for (int k0 = 0; k0 < k; k0 += Depth)
        {
            int kc = Math.Min(Depth, k - k0);
            Pack(r + k0, d, kc, ldr, scratch);
            long stride = PanelStride(kc);
            for (int i0 = 0; i0 < d; i0 += TileRows)
            {
                int last = Math.Min(i0 + TileRows - 1, d - 1) / p;
                T* a = scratch + ((i0 / p) * stride) + (i0 % p);
                if (d - i0 <= ShortRows && !eight)
                {
                    // A last tile row of at most four rows (d = 100: 4, grokking's 122: 2): four rows, six panels at a time,
                    // instead of eight rows with the rest zero padding.
                    for (int q0 = 0; q0 <= last; q0 += 6)
                    {
                        TileShort(a, scratch + (q0 * stride), stride, Math.Min(6, last - q0 + 1), kc, h, ldh, i0, q0 * p, d, tile);
                    }

                    continue;
                }

                for (int q0 = 0; q0 <= last; q0 += 3)
                {
                    int width = Math.Min(3, last - q0 + 1);
                    Tile(a, scratch + (q0 * stride), stride, width, kc, h, ldh, i0, q0 * p, d, tile);
                }
            }
        }
    }

    /// <summary>Rows at most of the last tile row that <see cref="TileShort"/> takes.</summary>
    internal const int ShortRows = 4;

    [ThreadStatic]
    private static bool? eightRowEdgesOnThisThread;

    /// <summary>
    /// Whether the updates the calling thread starts compute a short last tile row as eight rows (null, the default: no, four);
    /// tests and the measurement set it. The sparse AGOP kernel reads it on the thread that calls it and passes it to its
    /// workers' updates.
    /// </summary>
    internal static bool? EightRowEdgesOnThisThread
    {
        get => eightRowEdgesOnThisThread;
        set => eightRowEdgesOnThisThread = value;
    }

    /// <summary>
    /// The last tile row when it has at most <see cref="ShortRows"/> rows: rows i0 … i0 + 3 (those past d are zero padding,
    /// never stored) against <paramref name="width"/> (1–6) panels from <paramref name="b"/>, 24 accumulators; added to H
    /// through <paramref name="t"/> element by element, on and below the diagonal and within d × d.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileShort(T* a, T* b, long stride, int width, int kc, T* h, int ldh, int i0, int j0, int d, T* t)
    {
        int p = P;
        T* b0 = b;
        T* b1 = width > 1 ? b + (1 * stride) : b;
        T* b2 = width > 2 ? b + (2 * stride) : b;
        T* b3 = width > 3 ? b + (3 * stride) : b;
        T* b4 = width > 4 ? b + (4 * stride) : b;
        T* b5 = width > 5 ? b + (5 * stride) : b;
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default, c05 = default,
            c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default,
            c20 = default, c21 = default, c22 = default, c23 = default, c24 = default, c25 = default,
            c30 = default, c31 = default, c32 = default, c33 = default, c34 = default, c35 = default;
        for (int kk = 0; kk < kc; kk++)
        {
            long o = (long)kk * p;
            T* ak = a + o;
                var v0 = Vector512.Load(b0 + o);
                var v1 = Vector512.Load(b1 + o);
                var v2 = Vector512.Load(b2 + o);
                var v3 = Vector512.Load(b3 + o);
                var v4 = Vector512.Load(b4 + o);
                var v5 = Vector512.Load(b5 + o);
                var x0 = Vector512.Create(ak[0]);
                c00 = PackedGemm<T>.Fma(x0, v0, c00);
                c01 = PackedGemm<T>.Fma(x0, v1, c01);
                c02 = PackedGemm<T>.Fma(x0, v2, c02);
                c03 = PackedGemm<T>.Fma(x0, v3, c03);
                c04 = PackedGemm<T>.Fma(x0, v4, c04);
                c05 = PackedGemm<T>.Fma(x0, v5, c05);
                var x1 = Vector512.Create(ak[1]);
                c10 = PackedGemm<T>.Fma(x1, v0, c10);
                c11 = PackedGemm<T>.Fma(x1, v1, c11);
                c12 = PackedGemm<T>.Fma(x1, v2, c12);
                c13 = PackedGemm<T>.Fma(x1, v3, c13);
                c14 = PackedGemm<T>.Fma(x1, v4, c14);
                c15 = PackedGemm<T>.Fma(x1, v5, c15);
                var x2 = Vector512.Create(ak[2]);
                c20 = PackedGemm<T>.Fma(x2, v0, c20);
                c21 = PackedGemm<T>.Fma(x2, v1, c21);
                c22 = PackedGemm<T>.Fma(x2, v2, c22);
                c23 = PackedGemm<T>.Fma(x2, v3, c23);
                c24 = PackedGemm<T>.Fma(x2, v4, c24);
                c25 = PackedGemm<T>.Fma(x2, v5, c25);
                var x3 = Vector512.Create(ak[3]);
                c30 = PackedGemm<T>.Fma(x3, v0, c30);
                c31 = PackedGemm<T>.Fma(x3, v1, c31);
                c32 = PackedGemm<T>.Fma(x3, v2, c32);
                c33 = PackedGemm<T>.Fma(x3, v3, c33);
                c34 = PackedGemm<T>.Fma(x3, v4, c34);
                c35 = PackedGemm<T>.Fma(x3, v5, c35);
        }

        int ld = 6 * p;
        c00.Store(t + (0 * ld) + (0 * p));
        c01.Store(t + (0 * ld) + (1 * p));
        c02.Store(t + (0 * ld) + (2 * p));
        c03.Store(t + (0 * ld) + (3 * p));
        c04.Store(t + (0 * ld) + (4 * p));
        c05.Store(t + (0 * ld) + (5 * p));
        c10.Store(t + (1 * ld) + (0 * p));
        c11.Store(t + (1 * ld) + (1 * p));
        c12.Store(t + (1 * ld) + (2 * p));
        c13.Store(t + (1 * ld) + (3 * p));
        c14.Store(t + (1 * ld) + (4 * p));
        c15.Store(t + (1 * ld) + (5 * p));
        c20.Store(t + (2 * ld) + (0 * p));
        c21.Store(t + (2 * ld) + (1 * p));
        c22.Store(t + (2 * ld) + (2 * p));
        c23.Store(t + (2 * ld) + (3 * p));
        c24.Store(t + (2 * ld) + (4 * p));
        c25.Store(t + (2 * ld) + (5 * p));
        c30.Store(t + (3 * ld) + (0 * p));
        c31.Store(t + (3 * ld) + (1 * p));
        c32.Store(t + (3 * ld) + (2 * p));
        c33.Store(t + (3 * ld) + (3 * p));
        c34.Store(t + (3 * ld) + (4 * p));
        c35.Store(t + (3 * ld) + (5 * p));
        AddEdge(t, ld, width * p, h, ldh, i0, j0, d);
    }

    private static int Panels(int d) => (d + P - 1) / P;

    /// <summary>Elements from one packed panel to the next for <paramref name="kc"/> columns: one vector of padding.</summary>
    private static long PanelStride(int kc) => (long)(kc + 1) * P;

    private static long PanelsLength(int d) => Panels(d) * PanelStride(Depth);

    /// <summary>
    /// Packs R[:, 0 … kc) into panels of P rows: panel q holds R[qP + i, κ] at [q·s + κ·P + i] (s the panel stride), zero for
    /// rows past d.
    /// 8 × 8 blocks are transposed in registers; the edges go element by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack(T* r, int d, int kc, int ldr, T* packed)
    {
        int p = P, panels = Panels(d);
        int kc8 = kc / 8 * 8;
        for (int q = 0; q < panels; q++)
        {
            T* panel = packed + (q * PanelStride(kc));
            for (int ib = 0; ib < p; ib += 8)
            {
                int row0 = (q * p) + ib;
                if (row0 + 8 <= d)
                {
                    T* src = r + ((long)row0 * ldr);
                    for (int kk = 0; kk < kc8; kk += 8)
                    {
                        Transpose8<T>.Block(src + kk, ldr, panel + ((long)kk * p) + ib, p, T.One, scale: false);
                    }

                    for (int kk = kc8; kk < kc; kk++)
                    {
                        for (int i = 0; i < 8; i++)
                        {
                            panel[((long)kk * p) + ib + i] = src[((long)i * ldr) + kk];
                        }
                    }
                }
                else
                {
                    for (int kk = 0; kk < kc; kk++)
                    {
                        for (int i = 0; i < 8; i++)
                        {
                            panel[((long)kk * p) + ib + i] = row0 + i < d ? r[((long)(row0 + i) * ldr) + kk] : T.Zero;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The tile of rows i0 … i0 + 7 (their values at <paramref name="a"/>, stride P per column of R) and the columns of
    /// <paramref name="width"/> panels from <paramref name="b"/> (panel stride <paramref name="stride"/>): H[i0.., j0..] +=
    /// the tile's products, on and below the diagonal and within d × d; edge tiles go through <paramref name="t"/> (8 × 3
    /// vectors). No stack allocation here: with one, this loop ran much slower inside the AGOP than on its own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(T* a, T* b, long stride, int width, int kc, T* h, int ldh, int i0, int j0, int d, T* t)
    {
        int p = P;
        T* b1 = width > 1 ? b + stride : b;
        T* b2 = width > 2 ? b + (2 * stride) : b;
        Vector512<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        Vector512<T> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        Vector512<T> c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        if (width == 3)
        {
            for (int kk = 0; kk < kc; kk++)
            {
                long o = (long)kk * p;
                T* ak = a + o;
                var v0 = Vector512.Load(b + o);
                var v1 = Vector512.Load(b1 + o);
                var v2 = Vector512.Load(b2 + o);
                var x = Vector512.Create(ak[0]);
                c00 = PackedGemm<T>.Fma(x, v0, c00);
                c01 = PackedGemm<T>.Fma(x, v1, c01);
                c02 = PackedGemm<T>.Fma(x, v2, c02);
                x = Vector512.Create(ak[1]);
                c10 = PackedGemm<T>.Fma(x, v0, c10);
                c11 = PackedGemm<T>.Fma(x, v1, c11);
                c12 = PackedGemm<T>.Fma(x, v2, c12);
                x = Vector512.Create(ak[2]);
                c20 = PackedGemm<T>.Fma(x, v0, c20);
                c21 = PackedGemm<T>.Fma(x, v1, c21);
                c22 = PackedGemm<T>.Fma(x, v2, c22);
                x = Vector512.Create(ak[3]);
                c30 = PackedGemm<T>.Fma(x, v0, c30);
                c31 = PackedGemm<T>.Fma(x, v1, c31);
                c32 = PackedGemm<T>.Fma(x, v2, c32);
                x = Vector512.Create(ak[4]);
                c40 = PackedGemm<T>.Fma(x, v0, c40);
                c41 = PackedGemm<T>.Fma(x, v1, c41);
                c42 = PackedGemm<T>.Fma(x, v2, c42);
                x = Vector512.Create(ak[5]);
                c50 = PackedGemm<T>.Fma(x, v0, c50);
                c51 = PackedGemm<T>.Fma(x, v1, c51);
                c52 = PackedGemm<T>.Fma(x, v2, c52);
                x = Vector512.Create(ak[6]);
                c60 = PackedGemm<T>.Fma(x, v0, c60);
                c61 = PackedGemm<T>.Fma(x, v1, c61);
                c62 = PackedGemm<T>.Fma(x, v2, c62);
                x = Vector512.Create(ak[7]);
                c70 = PackedGemm<T>.Fma(x, v0, c70);
                c71 = PackedGemm<T>.Fma(x, v1, c71);
                c72 = PackedGemm<T>.Fma(x, v2, c72);
            }
        }
        else if (width == 2)
        {
            for (int kk = 0; kk < kc; kk++)
            {
                long o = (long)kk * p;
                T* ak = a + o;
                var v0 = Vector512.Load(b + o);
                var v1 = Vector512.Load(b1 + o);
                var x = Vector512.Create(ak[0]);
                c00 = PackedGemm<T>.Fma(x, v0, c00);
                c01 = PackedGemm<T>.Fma(x, v1, c01);
                x = Vector512.Create(ak[1]);
                c10 = PackedGemm<T>.Fma(x, v0, c10);
                c11 = PackedGemm<T>.Fma(x, v1, c11);
                x = Vector512.Create(ak[2]);
                c20 = PackedGemm<T>.Fma(x, v0, c20);
                c21 = PackedGemm<T>.Fma(x, v1, c21);
                x = Vector512.Create(ak[3]);
                c30 = PackedGemm<T>.Fma(x, v0, c30);
                c31 = PackedGemm<T>.Fma(x, v1, c31);
                x = Vector512.Create(ak[4]);
                c40 = PackedGemm<T>.Fma(x, v0, c40);
                c41 = PackedGemm<T>.Fma(x, v1, c41);
                x = Vector512.Create(ak[5]);
                c50 = PackedGemm<T>.Fma(x, v0, c50);
                c51 = PackedGemm<T>.Fma(x, v1, c51);
                x = Vector512.Create(ak[6]);
                c60 = PackedGemm<T>.Fma(x, v0, c60);
                c61 = PackedGemm<T>.Fma(x, v1, c61);
                x = Vector512.Create(ak[7]);
                c70 = PackedGemm<T>.Fma(x, v0, c70);
                c71 = PackedGemm<T>.Fma(x, v1, c71);
            }
        }
        else
        {
            for (int kk = 0; kk < kc; kk++)
            {
                long o = (long)kk * p;
                T* ak = a + o;
                var v0 = Vector512.Load(b + o);
                c00 = PackedGemm<T>.Fma(Vector512.Create(ak[0]), v0, c00);
                c10 = PackedGemm<T>.Fma(Vector512.Create(ak[1]), v0, c10);
                c20 = PackedGemm<T>.Fma(Vector512.Create(ak[2]), v0, c20);
                c30 = PackedGemm<T>.Fma(Vector512.Create(ak[3]), v0, c30);
                c40 = PackedGemm<T>.Fma(Vector512.Create(ak[4]), v0, c40);
                c50 = PackedGemm<T>.Fma(Vector512.Create(ak[5]), v0, c50);
                c60 = PackedGemm<T>.Fma(Vector512.Create(ak[6]), v0, c60);
                c70 = PackedGemm<T>.Fma(Vector512.Create(ak[7]), v0, c70);
            }
        }

        // Whole vectors straight into H where the tile lies within d × d and below the diagonal; otherwise through a stack
        // tile, element by element.
        int cols = width * p;
        if (i0 + TileRows <= d && j0 + cols <= i0 + 1)
        {
            AddRow(h + ((long)i0 * ldh) + j0, width, c00, c01, c02);
            AddRow(h + ((long)(i0 + 1) * ldh) + j0, width, c10, c11, c12);
            AddRow(h + ((long)(i0 + 2) * ldh) + j0, width, c20, c21, c22);
            AddRow(h + ((long)(i0 + 3) * ldh) + j0, width, c30, c31, c32);
            AddRow(h + ((long)(i0 + 4) * ldh) + j0, width, c40, c41, c42);
            AddRow(h + ((long)(i0 + 5) * ldh) + j0, width, c50, c51, c52);
            AddRow(h + ((long)(i0 + 6) * ldh) + j0, width, c60, c61, c62);
            AddRow(h + ((long)(i0 + 7) * ldh) + j0, width, c70, c71, c72);
            return;
        }

        int ld = 3 * p;
        StoreRow(t, c00, c01, c02);
        StoreRow(t + ld, c10, c11, c12);
        StoreRow(t + (2 * ld), c20, c21, c22);
        StoreRow(t + (3 * ld), c30, c31, c32);
        StoreRow(t + (4 * ld), c40, c41, c42);
        StoreRow(t + (5 * ld), c50, c51, c52);
        StoreRow(t + (6 * ld), c60, c61, c62);
        StoreRow(t + (7 * ld), c70, c71, c72);
        AddEdge(t, ld, cols, h, ldh, i0, j0, d);
    }

    /// <summary>Adds the stored tile <paramref name="t"/> to H element by element, on and below the diagonal and within d × d.</summary>
    private static void AddEdge(T* t, int ld, int cols, T* h, int ldh, int i0, int j0, int d)
    {
        for (int i = 0; i < TileRows && i0 + i < d; i++)
        {
            int end = Math.Min(Math.Min(cols, d - j0), i0 + i - j0 + 1);
            T* row = h + ((long)(i0 + i) * ldh) + j0;
            for (int j = 0; j < end; j++)
            {
                row[j] += t[(i * ld) + j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(T* h, int width, Vector512<T> v0, Vector512<T> v1, Vector512<T> v2)
    {
        int p = P;
        (Vector512.Load(h) + v0).Store(h);
        if (width > 1)
        {
            (Vector512.Load(h + p) + v1).Store(h + p);
        }

        if (width > 2)
        {
            (Vector512.Load(h + (2 * p)) + v2).Store(h + (2 * p));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* t, Vector512<T> v0, Vector512<T> v1, Vector512<T> v2)
    {
        int p = P;
        v0.Store(t);
        v1.Store(t + p);
        v2.Store(t + (2 * p));
    }
}
