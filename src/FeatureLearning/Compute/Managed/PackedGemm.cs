using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Compute.Managed;

/// <summary>
/// Cache-blocked, packed GEMM on row-major storage, C ← α·op(A)·op(B) + β·C, in the Goto/BLIS
/// structure: B is packed per (kc × nc) block into NR-wide panels shared by all threads, A per (mc × kc)
/// block into MR-tall panels by each worker, and an MR × NR register-tile micro-kernel (Vector512 with FMA,
/// Vector256 with FMA, or scalar) computes each tile.
/// </summary>
/// <remarks>
/// Work items are (row block, column-panel range) pairs balanced over the threads. With
/// <c>lowerOnly</c> only the elements C_ij with j ≤ i are updated (SYRK and the Cholesky trailing update): tiles
/// entirely above the diagonal are skipped and tiles that straddle it are stored through a mask, so the
/// strictly upper triangle is never written.
/// </remarks>
internal static unsafe class PackedGemm<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private enum Isa
    {
        Scalar,
        Avx2,
        Avx512,
    }

    private static readonly Isa Kind = SelectIsa();

    /// <summary>Rows of the register tile.</summary>
    public static readonly int MR = Kind switch { Isa.Avx512 => 8, Isa.Avx2 => 4, _ => 4 };

    /// <summary>Columns of the register tile.</summary>
    public static readonly int NR = Kind switch { Isa.Avx512 => 3 * Vector512<T>.Count, Isa.Avx2 => 3 * Vector256<T>.Count, _ => 4 };

    /// <summary>The cache blocking for this CPU (<see cref="GemmBlocking"/>); settable for the benchmarks' calibration sweep.</summary>
    internal static GemmBlocking Blocking { get; set; } = GemmBlocking.ForInitializer(Unsafe.SizeOf<T>(), MR, NR);

    [ThreadStatic]
    private static GemmBlocking? blockingOnThisThread;

    /// <summary>
    /// A blocking for the products the calling thread starts (null, the default: <see cref="Blocking"/>); tests set it to check
    /// that every blocking gives the same product. It is read once per call on the calling thread, except by the per-thread
    /// products of the split-k path, which read it on their own threads (the calling thread's sees it, the others do not).
    /// </summary>
    internal static GemmBlocking? BlockingOnThisThread
    {
        get => blockingOnThisThread;
        set => blockingOnThisThread = value;
    }

    /// <summary>Depth of a packed block (the MR × KC micro-panel of A stays in L1).</summary>
    public static int KC => Blocking.Kc;

    /// <summary>Rows of an A block packed by one work item (the rule: one micro-panel, MR).</summary>
    public static int MC => Blocking.Mc;

    /// <summary>
    /// Work a product's worker runs on rows <paramref name="row"/> … <paramref name="row"/> + <paramref name="rows"/> − 1 of C
    /// once the product has written them whole (<see cref="Multiply"/>'s afterRowBlock), with that worker's scratch for
    /// packing A (<see cref="RowBlockRows"/> × the product's depth elements at least).
    /// </summary>
    internal delegate void RowBlockDone(int row, int rows, T* scratch);

    /// <summary>Work a product's worker runs once it finds no more items (<see cref="Multiply"/>'s afterItems), with its scratch for packing A.</summary>
    internal delegate void WorkerDone(T* scratch);

    /// <summary>Rows of C in one work item's row block under the calling thread's blocking (MC rounded up to whole register tiles).</summary>
    internal static int RowBlockRows => RowBlock(BlockingOnThisThread ?? Blocking);

    /// <summary>Rows of C in one work item's row block under <paramref name="blocking"/>: MC rounded up to whole register tiles.</summary>
    private static int RowBlock(GemmBlocking blocking) => RoundUp(Math.Max(1, blocking.Mc), MR);

    /// <summary>Columns of a B block (packed KC × NC, shared by the threads, streamed from L2 and L3).</summary>
    public static int NC => Blocking.Nc;

    /// <summary>Name of the micro-kernel chosen for this machine.</summary>
    public static string KernelName => $"{Kind} {MR}x{NR}";

    /// <summary>SIMD width in bits of the micro-kernel.</summary>
    public static int SimdBits => Kind switch { Isa.Avx512 => 512, Isa.Avx2 => 256, _ => 8 * sizeof(T) };

    private static Isa SelectIsa()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            return Isa.Scalar;
        }

        string? forced = SimdSetting.Requested;
        bool allow512 = forced is null or "512";
        bool allow256 = forced is not "scalar";
        if (allow512 && Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            return Isa.Avx512;
        }

        if (allow256 && Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported)
        {
            return Isa.Avx2;
        }

        return Isa.Scalar;
    }

    /// <summary>C ← α·op(A)·op(B) + β·C on raw row-major storage.</summary>
    /// <param name="transA">op(A) = Aᵀ.</param>
    /// <param name="transB">op(B) = Bᵀ.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="alpha">α.</param>
    /// <param name="a">A storage.</param>
    /// <param name="lda">Leading dimension (row stride) of A as stored.</param>
    /// <param name="b">B storage.</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="beta">β.</param>
    /// <param name="c">C storage.</param>
    /// <param name="ldc">Leading dimension of C.</param>
    /// <param name="lowerOnly">Update only C_ij with j ≤ i.</param>
    /// <param name="threads">Maximum worker threads (1 = serial).</param>
    /// <param name="rowsInPlace">C is A itself (same storage and leading dimension, op(A) untransposed, k = n) and β = 0: each
    /// work item packs its rows of A whole before it writes them (one work item per row block, one packed block). Only where
    /// <see cref="CanMultiplyRowsInPlace(int, int)"/> says so.</param>
    /// <param name="upperB">op(B) is upper triangular (op(B)[p, j] = 0 for p &gt; j; k = n): column panel j stops its products at
    /// depth j + NR, the zeros below never multiplied. Only with <paramref name="rowsInPlace"/> (one packed block).</param>
    /// <param name="firstTask">Work that worker 0 runs before it takes items (the others take items meanwhile), once; it may write
    /// neither the operands nor C outside the skipped rows, except rows that <paramref name="afterRowBlock"/> has reported
    /// (which the product no longer touches). Not with α = 0 (refused: the product would return before it).</param>
    /// <param name="skipLeadingRows">Rows at the top of C that the product leaves alone (for the first task to compute). With
    /// skipped rows, only where <see cref="CanSkipLeadingRows(int, int, int, int, bool, T, int)"/> says so; a first task with
    /// none, only where <see cref="TakesFirstTask"/> does.</param>
    /// <param name="afterRowBlock">Work each worker runs on each row block of C it has just written whole (every row block below
    /// the skipped rows, once, on the worker that computed it, while the others go on). Only with skipped rows, and where
    /// <see cref="ReportsRowBlocks(int, int, int)"/> says so.</param>
    /// <param name="afterItems">Work each worker runs once, when it finds no more items, before the product returns (with the
    /// scratch it packed A into); only with <paramref name="afterRowBlock"/>. It may write what afterRowBlock may.</param>
    /// <exception cref="ArgumentException"><paramref name="rowsInPlace"/> where the product cannot be computed in place,
    /// <paramref name="upperB"/> without it, skipped rows where they cannot be, a first task that the product would not
    /// run, or row blocks it would not report.</exception>
    public static void Multiply(
        bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc, bool lowerOnly, int threads,
        bool rowsInPlace = false, bool upperB = false, Action? firstTask = null, int skipLeadingRows = 0, RowBlockDone? afterRowBlock = null,
        WorkerDone? afterItems = null)
    {
        // One reading of the blocking per call (the benchmarks' sweep sets it between calls): the in-place check and the
        // blocks below use the same one.
        var blocking = BlockingOnThisThread ?? Blocking;
        if (rowsInPlace && (transA || lowerOnly || a != c || lda != ldc || beta != T.Zero || alpha == T.Zero || !CanMultiplyRowsInPlace(k, n, blocking)))
        {
            throw new ArgumentException($"A {m} x {k} product into its own rows (n = {n}, k = {k}) cannot be computed in place with this blocking.", nameof(rowsInPlace));
        }

        if (upperB && !rowsInPlace)
        {
            throw new ArgumentException("A product with a triangular B is computed in place only (one packed block of depth and of columns).", nameof(upperB));
        }

        if (skipLeadingRows != 0 && (alpha == T.Zero || !CanSkipLeadingRows(m, n, k, skipLeadingRows, lowerOnly, beta, blocking, threads)))
        {
            throw new ArgumentException($"A {m} x {n} x {k} product cannot leave its first {skipLeadingRows} rows to a first task with this blocking.", nameof(skipLeadingRows));
        }

        if (afterItems is not null && afterRowBlock is null)
        {
            throw new ArgumentException("Work after the items goes with a report of the row blocks (afterRowBlock).", nameof(afterItems));
        }

        if (afterRowBlock is not null && (skipLeadingRows == 0 || !ReportsRowBlocks(m, skipLeadingRows, blocking, threads)))
        {
            throw new ArgumentException($"A {m} x {n} x {k} product on {threads} threads does not write whole row blocks one item at a time below {skipLeadingRows} skipped rows.", nameof(afterRowBlock));
        }

        if (firstTask is not null && skipLeadingRows == 0 && (alpha == T.Zero || !TakesFirstTask(transA, m, n, k, lowerOnly, threads)))
        {
            throw new ArgumentException(
                $"A {m} x {n} x {k} product with α = {alpha} would not run a first task: it is empty, scales C only, takes the path for a few columns or is split along k.",
                nameof(firstTask));
        }

        if (m == 0 || n == 0)
        {
            return;
        }

        // β = 0 on the packed path: the first k-panel's micro-kernels store into C instead of adding to it, so C is not
        // cleared first (a whole pass over C, which shows in thin products such as kernel-matrix tiles with k = d).
        bool vector = IsVectorProduct(transA, m, n, k, lowerOnly);
        bool overwrite = beta == T.Zero && k > 0 && alpha != T.Zero && !vector;
        if (!overwrite)
        {
            ScaleC(m, n, beta, c, ldc, lowerOnly);
        }

        if (k == 0 || alpha == T.Zero)
        {
            return;
        }

        if (vector)
        {
            // C = α·op(A)·B + C with one column, or a few with A untransposed: memory-bound, so one pass over A instead of
            // packing it into tiles NR columns wide for a few useful ones (the Nyström solver's CG products, refinement
            // residuals, the AGOP's S = W'α). Aᵀb reads A row by row as well: packing op(A) = Aᵀ reads A a column at a time,
            // which dominated the Nyström CG.
            if (n > 1)
            {
                // A few columns (the AGOP's S = W'α for a few outputs, with its centring sums W'[α | 1]): rows of A streamed once.
                MatrixFewVectors(m, n, k, alpha, a, lda, b, transB ? 1 : ldb, transB ? ldb : 1, c, ldc, threads);
            }
            else if (transA)
            {
                TransposedMatrixVector(m, k, alpha, a, lda, b, transB ? 1 : ldb, c, ldc, threads);
            }
            else
            {
                MatrixVector(m, k, alpha, a, lda, b, transB ? 1 : ldb, c, ldc, threads);
            }

            return;
        }

        // Shallow products (the Cholesky's 96-deep trailing updates, kernel-matrix tiles with few inputs) take the rule's MC
        // too. Until the micro-kernels prefetched the next B micro-panel they took one micro-panel per A block on Intel CPUs,
        // where the Cholesky factor was faster so (seventh session); with the prefetch, four micro-panels (which fetch the
        // whole next panel between them) made it faster in five of six sizes and precisions from n = 1,860 to 10,000
        // (docs/benchmarks.md, tenth session).
        if (SplitsK(m, n, k, threads))
        {
            MultiplySplitK(transA, transB, m, n, k, alpha, a, lda, b, ldb, overwrite, c, ldc, lowerOnly, threads);
            return;
        }

        double flops = 2.0 * m * n * k;
        if (flops < 2.0 * 48 * 48 * 48)
        {
            threads = 1;
        }

        int mr = MR, nr = NR;
        bool prefetch = PrefetchNextPanel;

        // MC and NC whole tiles.
        int kcBlock = Math.Max(1, blocking.Kc), mcBlock = RowBlock(blocking), ncBlock = ColumnBlock(blocking, k);
        int ncMax = Math.Min(ncBlock, RoundUp(n, nr));
        int kcMax = Math.Min(kcBlock, k);
        int mcMax = Math.Min(mcBlock, RoundUp(m, mr));
        T* bPacked = (T*)NativeMemory.AlignedAlloc((nuint)((long)kcMax * ncMax * sizeof(T)), 64);
        int workers = Math.Max(1, threads);
        T*[] aPacked = new T*[workers];
        try
        {
            for (int jc = 0; jc < n; jc += ncBlock)
            {
                int nc = Math.Min(ncBlock, n - jc);
                int panels = (nc + nr - 1) / nr;
                for (int pc = 0; pc < k; pc += kcBlock)
                {
                    int kc = Math.Min(kcBlock, k - pc);
                    PackBAll(transB, b, ldb, pc, jc, kc, nc, bPacked, threads);

                    int rowBlocks = (m + mcBlock - 1) / mcBlock;
                    int chunks = threads == 1 || rowsInPlace ? 1 : Math.Max(1, Math.Min(panels, (4 * threads + rowBlocks - 1) / rowBlocks));
                    int panelsPerChunk = (panels + chunks - 1) / chunks;
                    chunks = (panels + panelsPerChunk - 1) / panelsPerChunk;
                    int items = rowBlocks * chunks;
                    System.Diagnostics.Debug.Assert(afterRowBlock is null || chunks == 1, "row blocks are reported where each item is a whole row block");

                    var ctx = new BlockContext(transA, m, a, lda, c, ldc, pc, jc, kc, nc, mcBlock, panelsPerChunk, chunks, bPacked, lowerOnly, alpha, overwrite && pc == 0, prefetch, upperB)
                    {
                        SkipRowBlocks = skipLeadingRows / mcBlock,
                    };
                    var task = firstTask;
                    firstTask = null;
                    if (threads == 1 || items == 1)
                    {
                        task?.Invoke();
                        aPacked[0] = EnsureA(aPacked[0], mcMax, kcMax);
                        for (int item = 0; item < items; item++)
                        {
                            if (RunItem(in ctx, item, aPacked[0], out int row, out int rows) && afterRowBlock is not null)
                            {
                                afterRowBlock(row, rows, aPacked[0]);
                            }
                        }

                        afterItems?.Invoke(aPacked[0]);
                    }
                    else
                    {
                        int next = -1;
                        int workerCount = Math.Min(workers, items);
                        for (int w = 0; w < workerCount; w++)
                        {
                            aPacked[w] = EnsureA(aPacked[w], mcMax, kcMax);
                        }

                        var ctxCopy = ctx;
                        ComputeThreads.Run(workerCount, w =>
                        {
                            // Worker 0 runs the first task (a look-ahead's factor of the next diagonal block) while the others take
                            // the first items, then joins them.
                            if (w == 0)
                            {
                                task?.Invoke();
                            }

                            int item;
                            while ((item = Interlocked.Increment(ref next)) < items)
                            {
                                if (RunItem(in ctxCopy, item, aPacked[w], out int row, out int rows) && afterRowBlock is not null)
                                {
                                    afterRowBlock(row, rows, aPacked[w]);
                                }
                            }

                            afterItems?.Invoke(aPacked[w]);
                        });
                    }
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(bPacked);
            foreach (T* p in aPacked)
            {
                if (p != null)
                {
                    NativeMemory.AlignedFree(p);
                }
            }
        }
    }

    /// <summary>Whether <see cref="Multiply"/> splits the product along k (a small C, a deep k, several threads).</summary>
    private static bool SplitsK(int m, int n, int k, int threads) =>
        threads > 1 && (long)m * n <= SplitKMaxOutput && k >= (long)SplitKMinDepth * threads;

    /// <summary>Whether <see cref="Multiply"/> takes the memory-bound path for one column or a few (no packing, no work items).</summary>
    private static bool IsVectorProduct(bool transA, int m, int n, int k, bool lowerOnly) =>
        (n == 1 || (n <= FewColumns && !transA && k >= FewColumnsMinDepth && m >= FewColumnsMinRows)) && !lowerOnly;

    /// <summary>
    /// Whether <see cref="Multiply"/> runs a first task (with no rows skipped) for this product: on the packed path, where it
    /// runs once, on worker 0 before it takes items, while the other workers take them (not an empty product, not the
    /// memory-bound path for a few columns, not split along k). The items write C while the task runs, and B's first block is
    /// packed before it starts: the task must write none of A, B and C, nor read what the product writes (but rows an
    /// afterRowBlock has reported, which the product no longer touches).
    /// </summary>
    internal static bool TakesFirstTask(bool transA, int m, int n, int k, bool lowerOnly, int threads) =>
        m > 0 && n > 0 && k > 0 && !IsVectorProduct(transA, m, n, k, lowerOnly)
        && !SplitsK(m, n, k, threads);

    /// <summary>
    /// Whether a lower-triangle product (<see cref="Multiply"/> with lowerOnly) can leave its first
    /// <paramref name="skipLeadingRows"/> rows of C to a first task that worker 0 runs before taking items: on the packed path
    /// (a C too large to split k, not one column), in one packed block of depth and of columns, with the skipped rows whole
    /// row blocks of the calling thread's blocking and fewer than m.
    /// </summary>
    internal static bool CanSkipLeadingRows(int m, int n, int k, int skipLeadingRows, bool lowerOnly, T beta, int threads) =>
        CanSkipLeadingRows(m, n, k, skipLeadingRows, lowerOnly, beta, BlockingOnThisThread ?? Blocking, threads);

    private static bool CanSkipLeadingRows(int m, int n, int k, int skipLeadingRows, bool lowerOnly, T beta, GemmBlocking blocking, int threads) =>
        lowerOnly && beta == T.One && n > 1 && k > 0 && skipLeadingRows >= 0 && skipLeadingRows < m
        && skipLeadingRows % RowBlock(blocking) == 0 && k <= Math.Max(1, blocking.Kc) && n <= ColumnBlock(blocking, k)
        && !SplitsK(m, n, k, threads);

    /// <summary>
    /// Whether a product that leaves its first <paramref name="skipLeadingRows"/> rows to a first task
    /// (<see cref="CanSkipLeadingRows(int, int, int, int, bool, T, int)"/>) also runs an afterRowBlock: where each work item is a
    /// whole row block, i.e. where the row blocks are at least four per thread (the items are then not split into column chunks).
    /// </summary>
    internal static bool ReportsRowBlocks(int m, int skipLeadingRows, int threads) =>
        ReportsRowBlocks(m, skipLeadingRows, BlockingOnThisThread ?? Blocking, threads);

    private static bool ReportsRowBlocks(int m, int skipLeadingRows, GemmBlocking blocking, int threads)
    {
        int mcBlock = RowBlock(blocking);
        return skipLeadingRows > 0 && skipLeadingRows < m && skipLeadingRows % mcBlock == 0 && (m + mcBlock - 1) / mcBlock >= 4 * Math.Max(1, threads);
    }

    /// <summary>
    /// Packs op(B) = Bᵀ (<paramref name="b"/> n × k, row-major) as <see cref="Multiply"/> packs a product's only block of depth
    /// and of columns, for <see cref="MultiplyRowsInPlace"/>; <paramref name="dst"/> holds k × n rounded up to whole NR panels.
    /// </summary>
    internal static void PackTransposedB(T* b, int ldb, int k, int n, T* dst) => PackBAll(true, b, ldb, 0, 0, k, n, dst, 1);

    /// <summary>Elements of <see cref="PackTransposedB"/>'s output for a k × n op(B).</summary>
    internal static long PackedBElements(int k, int n) => (long)k * RoundUp(n, NR);

    /// <summary>
    /// C ← C·op(B) for <paramref name="rows"/> rows of C (k = n columns, leading dimension <paramref name="ld"/>) in place, op(B)
    /// packed by <see cref="PackTransposedB"/>, on the calling thread: the arithmetic of <see cref="Multiply"/> with rowsInPlace
    /// on the same rows (one row block; <paramref name="upperB"/> as there), so the same bits. <paramref name="scratch"/> holds
    /// rows × k, the rows rounded up to whole register tiles.
    /// </summary>
    internal static void MultiplyRowsInPlace(T* c, int rows, int ld, int n, T* bPacked, bool upperB, T* scratch)
    {
        int panels = (n + NR - 1) / NR;
        var ctx = new BlockContext(false, rows, c, ld, c, ld, 0, 0, n, n, RoundUp(rows, MR), panels, 1, bPacked, false, T.One, true, PrefetchNextPanel, upperB);
        PackA(false, c, ld, 0, 0, rows, n, T.One, scratch);
        MacroKernel(in ctx, 0, rows, 0, panels, scratch);
    }

    /// <summary>
    /// Whether an m × n product op(A)·op(B) with k = n can overwrite A's rows (<see cref="Multiply"/> with rowsInPlace): on the
    /// packed path (more than <see cref="FewColumns"/> columns, too shallow to split k), with one packed block of depth and of
    /// columns under the calling thread's blocking, so that a row block of A is read whole, packed, before any of it is written.
    /// </summary>
    internal static bool CanMultiplyRowsInPlace(int k, int n) => CanMultiplyRowsInPlace(k, n, BlockingOnThisThread ?? Blocking);

    private static bool CanMultiplyRowsInPlace(int k, int n, GemmBlocking blocking) =>
        k == n && n > FewColumns && k < SplitKMinDepth && k <= Math.Max(1, blocking.Kc) && n <= ColumnBlock(blocking, k);

    /// <summary>
    /// Whether <see cref="ColumnBlock"/> widens the column blocks of shallow products: on by default; off only in measurement
    /// scripts that compare the two (docs/cpu/2026-11-28-s19).
    /// </summary>
    internal static bool WidenShallowColumnBlocks { get; set; } = true;

    /// <summary>
    /// The columns of a packed B block for a product of depth <paramref name="k"/>: NC, or for a product shallower than KC
    /// (one depth block) as many more as keep the block's size, KC·NC elements. The Cholesky factor's trailing updates (depth
    /// 96) then take the whole trailing matrix in one block: one packing and one parallel region per update instead of one per
    /// 3,072 columns, and the factor's look-ahead, which needs one block, from the first update on. On a Zen 4 the single factor
    /// at n = 10,000 took 1.675 s against 1.730 s, the double one 3.250 s against 3.289 s, by the median of seven passes
    /// alternating in one process (docs/benchmarks.md, nineteenth session). Splitting
    /// the columns does not change any element's sum, so the bits are the same.
    /// </summary>
    internal static int ColumnBlock(GemmBlocking blocking, int k)
    {
        int nc = RoundUp(Math.Max(1, blocking.Nc), NR), kc = Math.Max(1, blocking.Kc);
        if (k <= 0 || k >= kc || !WidenShallowColumnBlocks)
        {
            return nc;
        }

        long widened = (long)nc * kc / k;
        return RoundUp((int)Math.Min(widened, 1 << 24), NR);
    }

    /// <summary>
    /// Whether <see cref="MacroKernel"/> prefetches the next B micro-panel into L2: on by default, read once per
    /// <see cref="Multiply"/>. Off only in measurement scripts that compare the two (docs/cpu/2026-11-27); off, the
    /// micro-kernels still issue their prefetches, to the current panel.
    /// </summary>
    internal static bool PrefetchNextPanel { get; set; } = true;

    /// <summary>Bytes of a cache line: the prefetches' stride.</summary>
    internal const int CacheLine = 64;

    /// <summary>
    /// Where in the next B micro-panel (<paramref name="panelBytes"/> long) the block's A micro-panel number
    /// <paramref name="micropanel"/> starts prefetching its <paramref name="shareBytes"/> (kc cache lines), or −1 when the
    /// shares before it cover the panel: the shares follow one another from the start, the last one ends at the panel's
    /// end (so it may overlap the one before it, but never runs past the panel).
    /// </summary>
    internal static long PrefetchShare(int micropanel, long shareBytes, long panelBytes)
    {
        long offset = micropanel * shareBytes;
        return offset < panelBytes ? Math.Max(0, Math.Min(offset, panelBytes - shareBytes)) : -1;
    }

    /// <summary>
    /// The largest C (in elements) that <see cref="Multiply"/> computes by splitting k between the threads: a product with a
    /// small C and a long k (the AGOP's d × d sums over n·c gradients, k = tens of thousands) has too few tiles per k-panel to
    /// share, and one parallel loop per k-panel cost more than the panel's work.
    /// </summary>
    internal const int SplitKMaxOutput = 1 << 16;

    /// <summary>
    /// The depth per thread from which a small product splits k (<see cref="SplitKMaxOutput"/>): four packed blocks of the
    /// blocking this threshold was measured with (KC = 168), kept fixed so that a deeper KC does not move it.
    /// </summary>
    internal const int SplitKMinDepth = 4 * 168;

    /// <summary>
    /// C = α·op(A)·op(B) + C (or = with <paramref name="overwrite"/>, C not yet scaled) for a small C and a long k: each thread
    /// multiplies its contiguous range of k into a private C, single-threaded, and the partial products are summed into C
    /// (only on and below the diagonal with <paramref name="lowerOnly"/>) by <see cref="SumPrivate"/>.
    /// </summary>
    private static void MultiplySplitK(
        bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, bool overwrite, T* c, int ldc, bool lowerOnly, int threads)
    {
        int chunk = (k + threads - 1) / threads;
        SumPrivate(threads, m, n, c, ldc, lowerOnly, overwrite, (w, p) =>
        {
            int k0 = w * chunk, kw = Math.Min(chunk, k - k0);
            if (kw <= 0)
            {
                return;
            }

            // op(A) columns k0… are A's rows k0… when A is stored transposed (k × m), its columns otherwise; op(B)'s rows
            // k0… likewise.
            T* aw = transA ? a + ((long)k0 * lda) : a + k0;
            T* bw = transB ? b + k0 : b + ((long)k0 * ldb);
            fixed (T* pp = p)
            {
                Multiply(transA, transB, m, n, kw, alpha, aw, lda, bw, ldb, T.Zero, pp, n, lowerOnly, 1);
            }
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/>(w, P_w) for the workers w = 0 … <paramref name="workers"/> − 1 in parallel, each into a
    /// private, zeroed m × n buffer P_w, then C += Σ_w P_w (<see cref="SumParts"/> with one part per worker).
    /// </summary>
    internal static void SumPrivate(int workers, int m, int n, T* c, int ldc, bool lowerOnly, bool overwrite, Action<int, T[]> work) =>
        SumParts(workers, workers, m, n, c, ldc, lowerOnly, overwrite, work);

    /// <summary>
    /// Runs <paramref name="work"/>(p, P_p) for the parts p = 0 … <paramref name="parts"/> − 1 on up to
    /// <paramref name="workers"/> threads, each part into its own zeroed m × n buffer P_p, the parts claimed one at a time (a
    /// worker that a busy machine holds back leaves its next parts to the others instead of making them wait at the end); then
    /// C += Σ_p P_p in the order of p (C = Σ_p P_p with <paramref name="overwrite"/>; only on and below the diagonal with
    /// <paramref name="lowerOnly"/>). The buffers come from the shared array pool (C is small, but called per AGOP chunk a
    /// large-object allocation per part and call would add up) and go back to it even if a worker throws. The sum's order
    /// depends on the part count only, not on which worker took a part, so a result is reproducible.
    /// </summary>
    internal static void SumParts(int parts, int workers, int m, int n, T* c, int ldc, bool lowerOnly, bool overwrite, Action<int, T[]> work)
    {
        var partial = new T[parts][];
        try
        {
            for (int p = 0; p < parts; p++)
            {
                partial[p] = System.Buffers.ArrayPool<T>.Shared.Rent(m * n);
                Array.Clear(partial[p], 0, m * n);
            }

            int next = -1;
            ComputeThreads.Run(Math.Max(1, Math.Min(workers, parts)), _ =>
            {
                int part;
                while ((part = Interlocked.Increment(ref next)) < parts)
                {
                    work(part, partial[part]);
                }
            });
            for (int i = 0; i < m; i++)
            {
                int cols = lowerOnly ? Math.Min(n, i + 1) : n;
                var row = new Span<T>(c + ((long)i * ldc), cols);
                if (overwrite)
                {
                    row.Clear();
                }

                foreach (var p in partial)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(row, new ReadOnlySpan<T>(p, i * n, cols), row);
                }
            }
        }
        finally
        {
            foreach (var p in partial)
            {
                if (p is not null)
                {
                    System.Buffers.ArrayPool<T>.Shared.Return(p);
                }
            }
        }
    }

    private static T* EnsureA(T* existing, int mc, int kc)
        => existing != null ? existing : (T*)NativeMemory.AlignedAlloc((nuint)((long)mc * kc * sizeof(T)), 64);

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private readonly struct BlockContext(
        bool transA, int m, T* a, int lda, T* c, int ldc, int pc, int jc, int kc, int nc, int mcMax, int panelsPerChunk, int chunks, T* bPacked, bool lowerOnly, T alpha, bool overwrite, bool prefetch, bool upperB)
    {
        public readonly bool TransA = transA;
        public readonly int M = m;
        public readonly T* A = a;
        public readonly int Lda = lda;
        public readonly T* C = c;
        public readonly int Ldc = ldc;
        public readonly int Pc = pc;
        public readonly int Jc = jc;
        public readonly int Kc = kc;
        public readonly int Nc = nc;
        public readonly int McMax = mcMax;
        public readonly int PanelsPerChunk = panelsPerChunk;
        public readonly int Chunks = chunks;
        public readonly T* BPacked = bPacked;
        public readonly bool LowerOnly = lowerOnly;
        public readonly T Alpha = alpha;

        /// <summary>Store the products into C (the first k-panel of a β = 0 product) instead of adding them.</summary>
        public readonly bool Overwrite = overwrite;

        /// <summary>Prefetch the next B micro-panel (<see cref="PrefetchNextPanel"/>, read once per product).</summary>
        public readonly bool Prefetch = prefetch;

        /// <summary>op(B) is upper triangular and the product one block (pc = jc = 0): panel j's products stop at depth j + NR.</summary>
        public readonly bool UpperB = upperB;

        /// <summary>Row blocks at the top of C that the items leave alone (a first task computes them).</summary>
        public int SkipRowBlocks { get; init; }
    }

    private static bool RunItem(in BlockContext x, int item, T* aPacked, out int row, out int rows)
    {
        row = rows = 0;
        // A lower-triangle update takes its row blocks from the bottom, the longest first, so that the threads' last items
        // are the shortest (taken top down, a thread that picks the last row block works on alone while the others idle).
        int rowBlock = item / x.Chunks;
        if (x.LowerOnly)
        {
            rowBlock = ((x.M + x.McMax - 1) / x.McMax) - 1 - rowBlock;
        }

        if (rowBlock < x.SkipRowBlocks)
        {
            return false;
        }

        int chunk = item % x.Chunks;
        int ic = rowBlock * x.McMax;
        int mc = Math.Min(x.McMax, x.M - ic);
        int p0 = chunk * x.PanelsPerChunk;
        int panelCount = (x.Nc + NR - 1) / NR;
        int p1 = Math.Min(panelCount, p0 + x.PanelsPerChunk);
        if (p0 >= p1)
        {
            return false;
        }

        int colStart = x.Jc + (p0 * NR);
        if (x.LowerOnly && colStart > ic + mc - 1)
        {
            return false; // the whole work item lies above the diagonal
        }

        PackA(x.TransA, x.A, x.Lda, ic, x.Pc, mc, x.Kc, x.Alpha, aPacked);
        MacroKernel(x, ic, mc, p0, p1, aPacked);
        row = ic;
        rows = mc;
        return true;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel(in BlockContext x, int ic, int mc, int p0, int p1, T* aPacked)
    {
        int mr = MR, nr = NR, kc = x.Kc;
        T* tile = stackalloc T[mr * nr];

        // The next B micro-panel is fetched into L2 while this one is multiplied: the block's A micro-panels prefetch it in
        // shares of kc cache lines, one line per k step, from the start (the last share ends at the panel's end, so shares
        // may overlap but never run past it). The B block (KC × NC) lives in L3, and the first pass over a micro-panel
        // otherwise waited on it there, well below the micro-kernel's rate on data in cache (docs/benchmarks.md, tenth
        // session). An AVX-512 panel is three shares (NR·sizeof(T) = 192 bytes a k step), an AVX2 one one and a half; the
        // micro-panels after those, and every call where there is no next panel, name the current panel (a hit in L1 or L2,
        // no traffic). With one A micro-panel per block (the non-Intel rule) a third of an AVX-512 panel is fetched.
        long shareBytes = (long)kc * CacheLine;
        long panelBytes = (long)kc * nr * sizeof(T);
        for (int p = p0; p < p1; p++)
        {
            int j0 = x.Jc + (p * nr);
            int nrEff = Math.Min(nr, x.Jc + x.Nc - j0);
            T* bp = x.BPacked + ((long)p * kc * nr);

            // A triangular B has zeros below row j0 + nrEff − 1 of this panel: the micro-kernels stop there (both packed
            // panels are k-major, so a shorter depth reads their first rows).
            int depth = x.UpperB ? Math.Min(kc, j0 + nrEff) : kc;
            bool prefetchNext = x.Prefetch && p + 1 < p1;
            for (int ir = 0; ir < mc; ir += mr)
            {
                long offset = prefetchNext ? PrefetchShare(ir / mr, shareBytes, panelBytes) : -1;
                byte* pf = offset >= 0 ? (byte*)(bp + ((long)kc * nr)) + offset : (byte*)bp;
                int i0 = ic + ir;
                int mrEff = Math.Min(mr, mc - ir);
                if (x.LowerOnly && j0 > i0 + mrEff - 1)
                {
                    continue; // tile strictly above the diagonal
                }

                T* ap = aPacked + ((long)ir * kc);
                T* cTile = x.C + ((long)i0 * x.Ldc) + j0;
                bool straddles = x.LowerOnly && j0 + nrEff - 1 > i0;
                if (mrEff == mr && nrEff == nr && !straddles)
                {
                    MicroKernel(depth, ap, bp, cTile, x.Ldc, x.Overwrite, pf);
                }
                else
                {
                    MicroKernel(depth, ap, bp, tile, nr, overwrite: true, pf);
                    for (int r = 0; r < mrEff; r++)
                    {
                        int limit = straddles ? Math.Min(nrEff, i0 + r - j0 + 1) : nrEff;
                        T* cRow = cTile + ((long)r * x.Ldc);
                        T* tRow = tile + (r * nr);
                        if (x.Overwrite)
                        {
                            new ReadOnlySpan<T>(tRow, limit).CopyTo(new Span<T>(cRow, limit));
                            continue;
                        }

                        for (int cc = 0; cc < limit; cc++)
                        {
                            cRow[cc] += tRow[cc];
                        }
                    }
                }
            }
        }
    }

    /// <summary>c_i += α·(A_i · b) for the m rows of a row-major A (m × k) and a vector b of stride <paramref name="incb"/>.</summary>
    private static void MatrixVector(int m, int k, T alpha, T* a, int lda, T* b, int incb, T* c, int ldc, int threads)
    {
        T[]? gathered = incb == 1 ? null : new T[k];
        if (gathered is not null)
        {
            for (int p = 0; p < k; p++)
            {
                gathered[p] = b[(long)p * incb];
            }
        }

        fixed (T* g = gathered)
        {
            T* x = g != null ? g : b;
            int workers = (long)m * k < 1 << 16 ? 1 : Math.Max(1, threads);
            int chunk = Math.Max(1, (m + (4 * workers) - 1) / (4 * workers));
            int chunks = (m + chunk - 1) / chunk;
            ComputeThreads.For(chunks, workers, q =>
            {
                var vector = new ReadOnlySpan<T>(x, k);
                int end = Math.Min(m, (q + 1) * chunk);
                for (int i = q * chunk; i < end; i++)
                {
                    c[(long)i * ldc] += alpha * System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<T>(a + ((long)i * lda), k), vector);
                }
            });
        }
    }

    /// <summary>
    /// Columns up to which a product with untransposed A streams A's rows once (<see cref="MatrixFewVectors"/>) instead of
    /// packing them into register tiles NR columns wide: 16, where the tiles would compute 24 (double) or 48 (single) columns.
    /// </summary>
    internal const int FewColumns = 16;

    /// <summary>The depth from which <see cref="MatrixFewVectors"/> is taken: its SIMD loop runs over k, with a scalar tail.</summary>
    private const int FewColumnsMinDepth = 64;

    /// <summary>The rows from which <see cref="MatrixFewVectors"/> is taken: it shares rows between the threads, and fewer rows with a long k split k instead.</summary>
    private const int FewColumnsMinRows = 16;

    /// <summary>
    /// C[i, j] += α·a_i·b_j for the rows a_i of A (m × k) and n ≤ <see cref="FewColumns"/> vectors b_j (element p at
    /// b[p·<paramref name="incb"/> + j·<paramref name="colb"/>], gathered once into contiguous rows): memory-bound, so each
    /// row of A is read from memory once and the b_j, four at a time, from cache, instead of A being packed into register
    /// tiles mostly idle. Two rows at a time, so that each load of a b_j serves two FMAs.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void MatrixFewVectors(int m, int n, int k, T alpha, T* a, int lda, T* b, int incb, int colb, T* c, int ldc, int threads)
    {
        T* xs = (T*)NativeMemory.AlignedAlloc((nuint)((long)n * k * sizeof(T)), 64);
        try
        {
            for (int j = 0; j < n; j++)
            {
                for (int p = 0; p < k; p++)
                {
                    xs[((long)j * k) + p] = b[((long)p * incb) + ((long)j * colb)];
                }
            }

            int workers = (long)m * k < 1 << 16 ? 1 : Math.Max(1, threads);
            int chunk = Math.Max(1, (m + (4 * workers) - 1) / (4 * workers));
            int chunks = (m + chunk - 1) / chunk;
            ComputeThreads.For(chunks, workers, q =>
            {
                T* dots = stackalloc T[8];
                int end = Math.Min(m, (q + 1) * chunk);
                for (int i = q * chunk; i < end; i += 2)
                {
                    // Two rows at a time (the second repeats the first on an odd last row; its dots are dropped).
                    int rows = Math.Min(2, end - i);
                    T* r0 = a + ((long)i * lda);
                    T* r1 = rows == 2 ? r0 + lda : r0;
                    for (int j0 = 0; j0 < n; j0 += 4)
                    {
                        // Four vectors at a time; past the last, the last one again (its dots are dropped).
                        int width = Math.Min(4, n - j0);
                        T* x0 = xs + ((long)j0 * k);
                        EightDots(r0, r1, x0, x0 + ((long)Math.Min(1, width - 1) * k), x0 + ((long)Math.Min(2, width - 1) * k), x0 + ((long)Math.Min(3, width - 1) * k), k, dots);
                        for (int h = 0; h < rows; h++)
                        {
                            for (int j = 0; j < width; j++)
                            {
                                c[((long)(i + h) * ldc) + j0 + j] += alpha * dots[(4 * h) + j];
                            }
                        }
                    }
                }
            });
        }
        finally
        {
            NativeMemory.AlignedFree(xs);
        }
    }

    /// <summary>
    /// The dot products of rows r₀ and r₁ with x₀ … x₃ over <paramref name="k"/> elements into dots[0 … 3] and dots[4 … 7]:
    /// eight AVX-512 FMA accumulators where the GEMM's kernel is AVX-512 (six loads per eight FMAs), else
    /// <see cref="Vector{T}"/> multiply-adds, then the tail.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void EightDots(T* r0, T* r1, T* x0, T* x1, T* x2, T* x3, int k, T* dots)
    {
        int p = 0;
        for (int q = 0; q < 8; q++)
        {
            dots[q] = T.Zero;
        }

        if (Kind == Isa.Avx512)
        {
            int v = Vector512<T>.Count;
            Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (; p + v <= k; p += v)
            {
                var u = Vector512.Load(r0 + p);
                var w = Vector512.Load(r1 + p);
                var y = Vector512.Load(x0 + p);
                a0 = Fma(u, y, a0);
                b0 = Fma(w, y, b0);
                y = Vector512.Load(x1 + p);
                a1 = Fma(u, y, a1);
                b1 = Fma(w, y, b1);
                y = Vector512.Load(x2 + p);
                a2 = Fma(u, y, a2);
                b2 = Fma(w, y, b2);
                y = Vector512.Load(x3 + p);
                a3 = Fma(u, y, a3);
                b3 = Fma(w, y, b3);
            }

            (dots[0], dots[1], dots[2], dots[3]) = (Vector512.Sum(a0), Vector512.Sum(a1), Vector512.Sum(a2), Vector512.Sum(a3));
            (dots[4], dots[5], dots[6], dots[7]) = (Vector512.Sum(b0), Vector512.Sum(b1), Vector512.Sum(b2), Vector512.Sum(b3));
        }
        else if (Vector.IsHardwareAccelerated && Kind != Isa.Scalar)
        {
            int v = Vector<T>.Count;
            Vector<T> a0 = Vector<T>.Zero, a1 = Vector<T>.Zero, a2 = Vector<T>.Zero, a3 = Vector<T>.Zero;
            Vector<T> b0 = Vector<T>.Zero, b1 = Vector<T>.Zero, b2 = Vector<T>.Zero, b3 = Vector<T>.Zero;
            for (; p + v <= k; p += v)
            {
                var u = Vector.Load(r0 + p);
                var w = Vector.Load(r1 + p);
                var y = Vector.Load(x0 + p);
                a0 += u * y;
                b0 += w * y;
                y = Vector.Load(x1 + p);
                a1 += u * y;
                b1 += w * y;
                y = Vector.Load(x2 + p);
                a2 += u * y;
                b2 += w * y;
                y = Vector.Load(x3 + p);
                a3 += u * y;
                b3 += w * y;
            }

            (dots[0], dots[1], dots[2], dots[3]) = (Vector.Sum(a0), Vector.Sum(a1), Vector.Sum(a2), Vector.Sum(a3));
            (dots[4], dots[5], dots[6], dots[7]) = (Vector.Sum(b0), Vector.Sum(b1), Vector.Sum(b2), Vector.Sum(b3));
        }

        for (; p < k; p++)
        {
            dots[0] += r0[p] * x0[p];
            dots[1] += r0[p] * x1[p];
            dots[2] += r0[p] * x2[p];
            dots[3] += r0[p] * x3[p];
            dots[4] += r1[p] * x0[p];
            dots[5] += r1[p] * x1[p];
            dots[6] += r1[p] * x2[p];
            dots[7] += r1[p] * x3[p];
        }
    }

    /// <summary>
    /// c[i] += α Σ_p a[p, i] x[p] for A stored k × m (row stride <paramref name="lda"/>): each worker streams a contiguous
    /// range of A's rows into its own accumulator of length m, and the accumulators are added into C at the end.
    /// </summary>
    private static void TransposedMatrixVector(int m, int k, T alpha, T* a, int lda, T* b, int incb, T* c, int ldc, int threads)
    {
        int workers = (long)m * k < 1 << 16 ? 1 : Math.Max(1, Math.Min(threads, k));
        int chunk = (k + workers - 1) / workers;
        var partial = new T[workers][];
        ComputeThreads.Run(workers, w =>
        {
            var acc = new T[m];
            int end = Math.Min(k, (w + 1) * chunk);
            int p = w * chunk;
            fixed (T* sum = acc)
            {
                // Four rows per pass: the accumulator is loaded and stored once for four rows instead of once per row.
                for (; p + 3 < end; p += 4)
                {
                    AddFourRows(m, a + ((long)p * lda), lda, b[(long)p * incb], b[(long)(p + 1) * incb], b[(long)(p + 2) * incb], b[(long)(p + 3) * incb], sum);
                }
            }

            for (; p < end; p++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(a + ((long)p * lda), m), b[(long)p * incb], acc, acc);
            }

            partial[w] = acc;
        });

        for (int i = 0; i < m; i++)
        {
            T sum = T.Zero;
            foreach (var acc in partial)
            {
                sum += acc[i];
            }

            c[(long)i * ldc] += alpha * sum;
        }
    }

    /// <summary>sum[i] += x0·r0[i] + x1·r1[i] + x2·r2[i] + x3·r3[i] for the four rows r_q = row + q·lda.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void AddFourRows(int m, T* row, int lda, T x0, T x1, T x2, T x3, T* sum)
    {
        T* r0 = row, r1 = row + lda, r2 = row + (2L * lda), r3 = row + (3L * lda);
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<T>.Count;
            var v0 = new System.Numerics.Vector<T>(x0);
            var v1 = new System.Numerics.Vector<T>(x1);
            var v2 = new System.Numerics.Vector<T>(x2);
            var v3 = new System.Numerics.Vector<T>(x3);
            for (; i <= m - w; i += w)
            {
                var s = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<System.Numerics.Vector<T>>(sum + i);
                s += (System.Runtime.CompilerServices.Unsafe.ReadUnaligned<System.Numerics.Vector<T>>(r0 + i) * v0)
                    + (System.Runtime.CompilerServices.Unsafe.ReadUnaligned<System.Numerics.Vector<T>>(r1 + i) * v1)
                    + (System.Runtime.CompilerServices.Unsafe.ReadUnaligned<System.Numerics.Vector<T>>(r2 + i) * v2)
                    + (System.Runtime.CompilerServices.Unsafe.ReadUnaligned<System.Numerics.Vector<T>>(r3 + i) * v3);
                System.Runtime.CompilerServices.Unsafe.WriteUnaligned(sum + i, s);
            }
        }

        for (; i < m; i++)
        {
            sum[i] += (r0[i] * x0) + (r1[i] * x1) + (r2[i] * x2) + (r3[i] * x3);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void ScaleC(int m, int n, T beta, T* c, int ldc, bool lowerOnly)
    {
        if (beta == T.One)
        {
            return;
        }

        for (int i = 0; i < m; i++)
        {
            int cols = lowerOnly ? Math.Min(n, i + 1) : n;
            var row = new Span<T>(c + ((long)i * ldc), cols);
            if (beta == T.Zero)
            {
                row.Clear();
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }

    /// <summary>Packs op(A)[ic:ic+mc, pc:pc+kc]·α into MR-row panels: panel q holds kc groups of MR values.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transA, T* a, int lda, int ic, int pc, int mc, int kc, T alpha, T* dst)
    {
        int mr = MR;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            T* panel = dst + ((long)ir * kc);
            if (!transA)
            {
                // op(A)(i, p) = a[i*lda + p]: read each row contiguously, scatter with stride MR.
                if (rows < mr)
                {
                    new Span<T>(panel, kc * mr).Clear();
                }

                // Whole 8 × 8 blocks transposed in registers; the rest element by element.
                int done = rows == 8 && mr == 8 && Transpose8<T>.Supported ? kc / 8 * 8 : 0;
                T* first = a + ((long)(ic + ir) * lda) + pc;
                for (int p = 0; p < done; p += 8)
                {
                    Transpose8<T>.Block(first + p, lda, panel + (p * mr), mr, alpha, alpha != T.One);
                }

                for (int r = 0; r < rows; r++)
                {
                    T* src = first + ((long)r * lda);
                    T* d = panel + r;
                    for (int p = done; p < kc; p++)
                    {
                        d[p * mr] = alpha * src[p];
                    }
                }
            }
            else
            {
                // op(A)(i, p) = a[p*lda + i]: each p gives MR contiguous values, one vector for a whole panel of eight.
                if (rows == 8 && mr == 8 && Transpose8<T>.Supported)
                {
                    bool scale = alpha != T.One;
                    for (int p = 0; p < kc; p++)
                    {
                        Transpose8<T>.Row(a + ((long)(pc + p) * lda) + ic + ir, panel + (p * mr), alpha, scale);
                    }

                    continue;
                }

                for (int p = 0; p < kc; p++)
                {
                    T* src = a + ((long)(pc + p) * lda) + ic + ir;
                    T* d = panel + (p * mr);
                    int r = 0;
                    for (; r < rows; r++)
                    {
                        d[r] = alpha * src[r];
                    }

                    for (; r < mr; r++)
                    {
                        d[r] = T.Zero;
                    }
                }
            }
        }
    }

    private static void PackBAll(bool transB, T* b, int ldb, int pc, int jc, int kc, int nc, T* dst, int threads)
    {
        int nr = NR;
        int panels = (nc + nr - 1) / nr;
        if (!transB)
        {
            // Row p of the block is nc contiguous values, dealt out to the whole panels NR at a time: packed row by row, the
            // reads stream along B's rows and each panel's share is one register tile's width of vector copies. Panel by
            // panel, with a 192-byte span copy per row, packing all of a 4,000 × 4,000 double B took twice as long on a Zen 4,
            // 1.6% of the GEMM's time against 0.8% (docs/benchmarks.md, nineteenth session).
            int full = nc / nr;
            int chunks = threads <= 1 || panels < 4 ? 1 : Math.Min(kc, 4 * threads);
            int rowsPerChunk = (kc + chunks - 1) / chunks;
            if (chunks == 1)
            {
                PackBRows(b, ldb, pc, jc, 0, kc, kc, full, dst);
            }
            else
            {
                ComputeThreads.For(chunks, threads, ch =>
                    PackBRows(b, ldb, pc, jc, ch * rowsPerChunk, Math.Min(kc, (ch + 1) * rowsPerChunk), kc, full, dst));
            }

            if (full < panels)
            {
                PackBPanel(transB, b, ldb, pc, jc + (full * nr), kc, nc - (full * nr), dst + ((long)full * kc * nr));
            }

            return;
        }

        if (threads <= 1 || panels < 4)
        {
            for (int p = 0; p < panels; p++)
            {
                PackBPanel(transB, b, ldb, pc, jc + (p * nr), kc, Math.Min(nr, nc - (p * nr)), dst + ((long)p * kc * nr));
            }

            return;
        }

        ComputeThreads.For(panels, threads, p =>
            PackBPanel(transB, b, ldb, pc, jc + (p * nr), kc, Math.Min(nr, nc - (p * nr)), dst + ((long)p * kc * nr)));
    }

    /// <summary>
    /// Packs rows <paramref name="p0"/> to <paramref name="p1"/> of the untransposed block B[pc:pc+kc, jc:jc+full·NR] into its
    /// <paramref name="full"/> whole NR-wide panels (panel q starts at q·kc·NR, row p of a panel at p·NR).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void PackBRows(T* b, int ldb, int pc, int jc, int p0, int p1, int kc, int full, T* dst)
    {
        int nr = NR;
        long panelStride = (long)kc * nr;
        for (int p = p0; p < p1; p++)
        {
            T* src = b + ((long)(pc + p) * ldb) + jc;
            T* d = dst + ((long)p * nr);
            switch (Kind)
            {
                case Isa.Avx512:
                {
                    // NR = three vectors.
                    int w = Vector512<T>.Count;
                    for (int q = 0; q < full; q++, src += nr, d += panelStride)
                    {
                        Vector512.Load(src).Store(d);
                        Vector512.Load(src + w).Store(d + w);
                        Vector512.Load(src + (2 * w)).Store(d + (2 * w));
                    }

                    break;
                }

                case Isa.Avx2:
                {
                    int w = Vector256<T>.Count;
                    for (int q = 0; q < full; q++, src += nr, d += panelStride)
                    {
                        Vector256.Load(src).Store(d);
                        Vector256.Load(src + w).Store(d + w);
                        Vector256.Load(src + (2 * w)).Store(d + (2 * w));
                    }

                    break;
                }

                default:
                    for (int q = 0; q < full; q++, src += nr, d += panelStride)
                    {
                        new ReadOnlySpan<T>(src, nr).CopyTo(new Span<T>(d, nr));
                    }

                    break;
            }
        }
    }

    /// <summary>Packs op(B)[pc:pc+kc, j0:j0+cols] into one NR-wide panel (zero-padded).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void PackBPanel(bool transB, T* b, int ldb, int pc, int j0, int kc, int cols, T* panel)
    {
        int nr = NR;
        if (!transB)
        {
            // op(B)(p, j) = b[p*ldb + j]: NR contiguous values per p.
            for (int p = 0; p < kc; p++)
            {
                T* src = b + ((long)(pc + p) * ldb) + j0;
                T* d = panel + (p * nr);
                new ReadOnlySpan<T>(src, cols).CopyTo(new Span<T>(d, cols));
                if (cols < nr)
                {
                    new Span<T>(d + cols, nr - cols).Clear();
                }
            }
        }
        else
        {
            // op(B)(p, j) = b[j*ldb + p]: read each stored row contiguously, scatter with stride NR.
            if (cols < nr)
            {
                new Span<T>(panel, kc * nr).Clear();
            }

            // Groups of eight stored rows in 8 × 8 blocks transposed in registers; the rest element by element.
            int groups = Transpose8<T>.Supported ? cols / 8 : 0, done = kc / 8 * 8;
            for (int g = 0; g < groups; g++)
            {
                T* first = b + ((long)(j0 + (8 * g)) * ldb) + pc;
                for (int p = 0; p < done; p += 8)
                {
                    Transpose8<T>.Block(first + p, ldb, panel + (p * nr) + (8 * g), nr, T.One, scale: false);
                }
            }

            for (int jj = 0; jj < cols; jj++)
            {
                T* src = b + ((long)(j0 + jj) * ldb) + pc;
                T* d = panel + jj;
                for (int p = jj < 8 * groups ? done : 0; p < kc; p++)
                {
                    d[p * nr] = src[p];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(int kc, T* ap, T* bp, T* c, int ldc, bool overwrite, byte* prefetch)
    {
        switch (Kind)
        {
            case Isa.Avx512:
                Kernel512(kc, ap, bp, c, ldc, overwrite, prefetch);
                break;
            case Isa.Avx2:
                Kernel256(kc, ap, bp, c, ldc, overwrite, prefetch);
                break;
            default:
                KernelScalar(kc, ap, bp, c, ldc, overwrite);
                break;
        }
    }

    /// <summary>acc + a·b, fused for <see cref="float"/> and <see cref="double"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Fma(Vector512<T> a, Vector512<T> b, Vector512<T> acc)
    {
        if (typeof(T) == typeof(double))
        {
            return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), acc.AsDouble()).As<double, T>();
        }

        if (typeof(T) == typeof(float))
        {
            return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), acc.AsSingle()).As<float, T>();
        }

        return (a * b) + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma(Vector256<T> a, Vector256<T> b, Vector256<T> acc)
    {
        if (typeof(T) == typeof(double))
        {
            return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), acc.AsDouble()).As<double, T>();
        }

        if (typeof(T) == typeof(float))
        {
            return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), acc.AsSingle()).As<float, T>();
        }

        return (a * b) + acc;
    }

    /// <summary>
    /// 8 × (3 vectors) register tile: C[0:8, 0:NR] += Ap · Bp (= with <paramref name="overwrite"/>), prefetching the kc cache
    /// lines from <paramref name="prefetch"/> on into L2, one per k step (<see cref="MacroKernel"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(int kc, T* ap, T* bp, T* c, int ldc, bool overwrite, byte* prefetch)
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        Vector512<T> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        Vector512<T> c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;

        // The C tile's rows (3 vectors, up to 4 cache lines each) are fetched while the loop runs: loaded only after it, they
        // stall the tile's stores on memory.
        for (int r = 0; r < 8; r++)
        {
            byte* row = (byte*)(c + ((long)r * ldc));
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + 64);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + 128);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + 191);
        }

        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(bp);
            Vector512<T> b1 = Vector512.Load(bp + w);
            Vector512<T> b2 = Vector512.Load(bp + (2 * w));
            Vector512<T> a0 = Vector512.Create(ap[0]);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01); c02 = Fma(a0, b2, c02);
            Vector512<T> a1 = Vector512.Create(ap[1]);
            c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11); c12 = Fma(a1, b2, c12);
            Vector512<T> a2 = Vector512.Create(ap[2]);
            c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21); c22 = Fma(a2, b2, c22);
            Vector512<T> a3 = Vector512.Create(ap[3]);
            c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31); c32 = Fma(a3, b2, c32);
            Vector512<T> a4 = Vector512.Create(ap[4]);
            c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41); c42 = Fma(a4, b2, c42);
            Vector512<T> a5 = Vector512.Create(ap[5]);
            c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51); c52 = Fma(a5, b2, c52);
            Vector512<T> a6 = Vector512.Create(ap[6]);
            c60 = Fma(a6, b0, c60); c61 = Fma(a6, b1, c61); c62 = Fma(a6, b2, c62);
            Vector512<T> a7 = Vector512.Create(ap[7]);
            c70 = Fma(a7, b0, c70); c71 = Fma(a7, b1, c71); c72 = Fma(a7, b2, c72);
            System.Runtime.Intrinsics.X86.Sse.Prefetch1(prefetch);
            prefetch += CacheLine;
            ap += 8;
            bp += 3 * w;
        }

        Store512(c, w, c00, c01, c02, overwrite);
        Store512(c + ldc, w, c10, c11, c12, overwrite);
        Store512(c + (2 * ldc), w, c20, c21, c22, overwrite);
        Store512(c + (3 * ldc), w, c30, c31, c32, overwrite);
        Store512(c + (4 * ldc), w, c40, c41, c42, overwrite);
        Store512(c + (5 * ldc), w, c50, c51, c52, overwrite);
        Store512(c + (6 * ldc), w, c60, c61, c62, overwrite);
        Store512(c + (7 * ldc), w, c70, c71, c72, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(T* row, int w, Vector512<T> v0, Vector512<T> v1, Vector512<T> v2, bool overwrite)
    {
        if (overwrite)
        {
            v0.Store(row);
            v1.Store(row + w);
            v2.Store(row + (2 * w));
            return;
        }

        (Vector512.Load(row) + v0).Store(row);
        (Vector512.Load(row + w) + v1).Store(row + w);
        (Vector512.Load(row + (2 * w)) + v2).Store(row + (2 * w));
    }

    /// <summary>4 × (3 vectors) register tile for AVX2 machines (16 vector registers), prefetching as <see cref="Kernel512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kc, T* ap, T* bp, T* c, int ldc, bool overwrite, byte* prefetch)
    {
        int w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector256<T> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(bp);
            Vector256<T> b1 = Vector256.Load(bp + w);
            Vector256<T> b2 = Vector256.Load(bp + (2 * w));
            Vector256<T> a0 = Vector256.Create(ap[0]);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01); c02 = Fma(a0, b2, c02);
            Vector256<T> a1 = Vector256.Create(ap[1]);
            c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11); c12 = Fma(a1, b2, c12);
            Vector256<T> a2 = Vector256.Create(ap[2]);
            c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21); c22 = Fma(a2, b2, c22);
            Vector256<T> a3 = Vector256.Create(ap[3]);
            c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31); c32 = Fma(a3, b2, c32);
            System.Runtime.Intrinsics.X86.Sse.Prefetch1(prefetch);
            prefetch += CacheLine;
            ap += 4;
            bp += 3 * w;
        }

        Store256(c, w, c00, c01, c02, overwrite);
        Store256(c + ldc, w, c10, c11, c12, overwrite);
        Store256(c + (2 * ldc), w, c20, c21, c22, overwrite);
        Store256(c + (3 * ldc), w, c30, c31, c32, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(T* row, int w, Vector256<T> v0, Vector256<T> v1, Vector256<T> v2, bool overwrite)
    {
        if (overwrite)
        {
            v0.Store(row);
            v1.Store(row + w);
            v2.Store(row + (2 * w));
            return;
        }

        (Vector256.Load(row) + v0).Store(row);
        (Vector256.Load(row + w) + v1).Store(row + w);
        (Vector256.Load(row + (2 * w)) + v2).Store(row + (2 * w));
    }

    /// <summary>Portable MR × NR tile for machines without SIMD FMA.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void KernelScalar(int kc, T* ap, T* bp, T* c, int ldc, bool overwrite)
    {
        int mr = MR, nr = NR;
        Span<T> acc = stackalloc T[mr * nr];
        acc.Clear();
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < mr; r++)
            {
                T av = ap[r];
                for (int j = 0; j < nr; j++)
                {
                    acc[(r * nr) + j] += av * bp[j];
                }
            }

            ap += mr;
            bp += nr;
        }

        for (int r = 0; r < mr; r++)
        {
            for (int j = 0; j < nr; j++)
            {
                c[((long)r * ldc) + j] = overwrite ? acc[(r * nr) + j] : c[((long)r * ldc) + j] + acc[(r * nr) + j];
            }
        }
    }
}
