using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace FeatureLearning.Compute.Managed;

/// <summary>
/// Blocked right-looking Cholesky factorization and triangular solves on row-major storage, with every
/// O(n³) part in <see cref="PackedGemm{T}"/>: per block column, the diagonal block is factored by a
/// dot-product (Crout) kernel, inverted, the panel below it is multiplied by that inverse (a GEMM
/// instead of a TRSM), and the trailing matrix gets a lower-triangle-only rank-nb update. On several threads the next
/// diagonal block is updated, factored and inverted by worker 0 as the trailing update's first task (a look-ahead), the
/// update's other work items leaving its rows alone, so that no thread waits on the one factoring it; and the items
/// multiply each row block of the next panel by the next inverse as soon as they have written it (the panel look-ahead).
/// </summary>
/// <remarks>Only the lower triangle is read and written; the strictly upper triangle keeps the original matrix,
/// which is what makes the jitter retry possible without a second copy.</remarks>
internal static unsafe class BlockedCholesky<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Block size of the outer factorization and of the blocked solves: min(96, max(64, KC)) for the GEMM's packed depth KC
    /// (<see cref="GemmBlocking"/>; KC ≥ 64 unless overridden), so that each trailing update A22 − A21·A21ᵀ is one pass of the GEMM.
    /// The diagonal block is factored and inverted by one thread (within the previous trailing update on several threads); with the GEMM's A micro-panel held in
    /// L1, trailing updates 96 deep run near the full GEMM rate, and a block-size sweep on a Zen 4 found 96 as fast as 256 at
    /// n = 10,000 and faster at n ≤ 4,000 (docs/benchmarks.md).
    /// </summary>
    public static int BlockSize => BlockSizeOnThisThread ?? Math.Clamp(PackedGemm<T>.KC, 64, 96);

    [ThreadStatic]
    private static int? blockSizeOnThisThread;

    /// <summary>A block size for the factorizations and solves the calling thread starts (null, the default: the rule); the benchmarks' sweep sets it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 8.</exception>
    internal static int? BlockSizeOnThisThread
    {
        get => blockSizeOnThisThread;
        set => blockSizeOnThisThread = value is null or >= 8 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A Cholesky block size must be at least 8.");
    }

    [ThreadStatic]
    private static bool? lookaheadOnThisThread;

    /// <summary>Whether the factorizations the calling thread starts on several threads factor each next diagonal block within the trailing update (null, the default: yes); tests and the measurement set it.</summary>
    internal static bool? LookaheadOnThisThread
    {
        get => lookaheadOnThisThread;
        set => lookaheadOnThisThread = value;
    }

    [ThreadStatic]
    private static bool? panelLookaheadOnThisThread;

    /// <summary>Whether the look-ahead also multiplies the next panel by the next diagonal block's inverse within the trailing
    /// update, each row block as soon as the update has written it, instead of in a pass of its own at the next step (null,
    /// the default: yes, where the panel is computed in place); tests and the measurement set it.</summary>
    internal static bool? PanelLookaheadOnThisThread
    {
        get => panelLookaheadOnThisThread;
        set => panelLookaheadOnThisThread = value;
    }

    [ThreadStatic]
    private static CholeskyPanelPath? panelPathOnThisThread;

    /// <summary>Which threads multiply the next panel's row blocks in the factorizations the calling thread starts (null, the default: <see cref="CholeskyPanelPath.Any"/>); tests set it to take each path for certain.</summary>
    internal static CholeskyPanelPath? PanelPathOnThisThread
    {
        get => panelPathOnThisThread;
        set => panelPathOnThisThread = value;
    }

    [ThreadStatic]
    private static int panelLookaheadStepsOnThisThread;

    /// <summary>How many trailing updates of the factorizations the calling thread has run multiplied the next panel (tests check that a factorization took the panel look-ahead).</summary>
    internal static int PanelLookaheadSteps => panelLookaheadStepsOnThisThread;

    [ThreadStatic]
    private static bool? panelCopyOnThisThread;

    /// <summary>Whether the factorizations the calling thread starts copy each panel before multiplying it by the diagonal block's inverse even where the GEMM can work in place (null, the default: no); tests and the measurement set it.</summary>
    internal static bool? PanelCopyOnThisThread
    {
        get => panelCopyOnThisThread;
        set => panelCopyOnThisThread = value;
    }

    [ThreadStatic]
    private static bool? fullPanelProductOnThisThread;

    /// <summary>Whether the in-place panel products the calling thread starts multiply the inverse's zeros too (null, the default: no); the measurement sets it.</summary>
    internal static bool? FullPanelProductOnThisThread
    {
        get => fullPanelProductOnThisThread;
        set => fullPanelProductOnThisThread = value;
    }

    /// <summary>Factors the lower triangle of A in place. Returns -1 on success or the index of the first non-positive pivot.</summary>
    public static int Factor(T* a, int n, int lda, int threads, CancellationToken cancellationToken)
    {
        int nb = BlockSize;
        T* inverse = (T*)NativeMemory.AlignedAlloc((nuint)((long)nb * nb * sizeof(T)), 64);
        T* nextInverse = (T*)NativeMemory.AlignedAlloc((nuint)((long)nb * nb * sizeof(T)), 64);
        // Every block with rows below it is nb wide, so one check serves them all.
        bool inPlace = PackedGemm<T>.CanMultiplyRowsInPlace(nb, nb) && !(PanelCopyOnThisThread ?? false);
        T* panel = n > nb && !inPlace ? (T*)NativeMemory.AlignedAlloc((nuint)((long)(n - nb) * nb * sizeof(T)), 64) : null;

        // Look-ahead: the next diagonal block (its share of this update, its factor and inverse) is done by worker 0 as the first
        // task of the trailing update, whose items leave its rows alone, so that one thread does not work alone between updates.
        bool lookahead = threads > 1 && (LookaheadOnThisThread ?? true);
        int aheadFailed = -1;
        bool ahead = false;

        // The panel look-ahead: the update's items multiply each row block of the next panel by the next inverse (packed once
        // by the first task) as soon as they have written it, while it is in cache, so that the next step has no parallel pass
        // of its own over the panel from memory (on a Zen 4's two cores that pass took 61 ms of the 1.64 s single factor at
        // n = 10,000, at under half the GEMM rate). Row blocks written before the inverse is ready are taken by the first task
        // once it has published the inverse, and by every worker that runs out of items (which waits for the inverse: it would
        // otherwise wait for the region's end). panelRows[r / MR] is a finished row block's row count until one thread claims
        // it (−1).
        bool panelLookahead = lookahead && inPlace && (PanelLookaheadOnThisThread ?? true);
        var panelPath = PanelPathOnThisThread ?? CholeskyPanelPath.Any;
        T* packedInverse = null, taskScratch = null;
        int taskScratchRows = 0;
        int[]? panelRows = panelLookahead ? new int[(n / PackedGemm<T>.MR) + 1] : null;
        bool panelAhead = false;
        try
        {
            if (panelLookahead)
            {
                packedInverse = (T*)NativeMemory.AlignedAlloc((nuint)(PackedGemm<T>.PackedBElements(nb, nb) * sizeof(T)), 64);
            }

            for (int k0 = 0; k0 < n; k0 += nb)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int kb = Math.Min(nb, n - k0);
                T* a11 = a + ((long)k0 * lda) + k0;
                int failed = ahead ? aheadFailed : FactorDiagonalBlock(a11, kb, lda);
                if (failed >= 0)
                {
                    return k0 + failed;
                }

                int rest = n - k0 - kb;
                if (rest == 0)
                {
                    break;
                }

                // A21 ← A21 · L11⁻ᵀ (as a GEMM with the explicit inverse of the small diagonal block), in place where the GEMM
                // packs each row block whole before writing it; otherwise from a copy of A21.
                if (ahead)
                {
                    T* swap = inverse;
                    inverse = nextInverse;
                    nextInverse = swap;
                }
                else
                {
                    InvertLower(a11, kb, lda, inverse, kb);
                }

                T* a21 = a + ((long)(k0 + kb) * lda) + k0;
                if (panelAhead)
                {
                    // The previous update's items multiplied this panel.
                }
                else if (inPlace)
                {
                    // L11⁻ᵀ is upper triangular: each column panel stops at its own depth (5/8 of the products for 96 × 96 with
                    // 24-column panels).
                    PackedGemm<T>.Multiply(false, true, rest, kb, kb, T.One, a21, lda, inverse, kb, T.Zero, a21, lda, false, threads, rowsInPlace: true, upperB: !(FullPanelProductOnThisThread ?? false));
                }
                else
                {
                    CopyRowsParallel(a21, lda, panel, kb, rest, kb, threads);
                    PackedGemm<T>.Multiply(false, true, rest, kb, kb, T.One, panel, kb, inverse, kb, T.Zero, a21, lda, false, threads);
                }

                // A22 ← A22 − A21 · A21ᵀ, lower triangle only.
                T* a22 = a + ((long)(k0 + kb) * lda) + k0 + kb;
                int nextKb = Math.Min(nb, rest);
                ahead = lookahead && rest > nextKb && PackedGemm<T>.CanSkipLeadingRows(rest, rest, kb, nextKb, true, T.One, threads);
                panelAhead = ahead && panelLookahead && PackedGemm<T>.ReportsRowBlocks(rest, nextKb, threads);
                T* ahead21 = a21, ahead11 = a22, aheadInverse = nextInverse;
                int aheadK = kb;
                aheadFailed = -1;

                // 0 until the first task has packed the inverse (1) or found the block not positive definite (2).
                int inverseState = 0;
                bool upperB = !(FullPanelProductOnThisThread ?? false);
                PackedGemm<T>.RowBlockDone? multiplyPanel = null;
                PackedGemm<T>.WorkerDone? sweepPanel = null;
                PackedGemm<T>.WorkerDone? sweepForTask = null;
                if (panelAhead)
                {
                    panelLookaheadStepsOnThisThread++;
                    System.Diagnostics.Debug.Assert(nextKb == kb, "the items' scratch for A is kb deep");

                    // The update's row blocks, read as its product reads them.
                    int rowBlockRows = PackedGemm<T>.RowBlockRows;
                    if (rowBlockRows > taskScratchRows)
                    {
                        NativeMemory.AlignedFree(taskScratch);
                        taskScratch = (T*)NativeMemory.AlignedAlloc((nuint)((long)rowBlockRows * nb * sizeof(T)), 64);
                        taskScratchRows = rowBlockRows;
                    }

                    Array.Clear(panelRows!, 0, (rest / PackedGemm<T>.MR) + 1);
                    int[] finished = panelRows!;
                    T* inverseBlocks = packedInverse, panelTop = a22;
                    int mr = PackedGemm<T>.MR;
                    var path = panelPath;

                    // Claims a finished row block (rows from row, of the update) and multiplies its share of the panel.
                    void Claim(int row, T* scratch)
                    {
                        int rows = Volatile.Read(ref finished[row / mr]);
                        if (rows > 0 && Interlocked.CompareExchange(ref finished[row / mr], -1, rows) == rows)
                        {
                            PackedGemm<T>.MultiplyRowsInPlace(panelTop + ((long)row * lda), rows, lda, nextKb, inverseBlocks, upperB, scratch);
                        }
                    }

                    void Sweep(T* scratch)
                    {
                        for (int row = nextKb; row < rest; row += rowBlockRows)
                        {
                            Claim(row, scratch);
                        }
                    }

                    multiplyPanel = (row, rows, scratch) =>
                    {
                        // The Interlocked write and read order this against the first task's: one of the two sees the other.
                        Interlocked.Exchange(ref finished[row / mr], rows);
                        if (path == CholeskyPanelPath.Items)
                        {
                            WaitForInverse(ref inverseState);
                        }

                        if (path != CholeskyPanelPath.Sweep && Volatile.Read(ref inverseState) == 1)
                        {
                            Claim(row, scratch);
                        }
                    };
                    sweepPanel = scratch =>
                    {
                        // Worker 0 gets here after its first task, so no worker waits on itself.
                        if (path != CholeskyPanelPath.Items && WaitForInverse(ref inverseState) == 1)
                        {
                            Sweep(scratch);
                        }
                    };
                    sweepForTask = path == CholeskyPanelPath.Any ? Sweep : null;
                }

                // The same tiles, depth and packing as the items would have used: the same bits.
                T* scratchForTask = taskScratch, inverseForTask = packedInverse;
                bool panelForTask = panelAhead;
                Action? factorNext = !ahead ? null : WithCallersBlocking(() =>
                {
                    try
                    {
                        PackedGemm<T>.Multiply(false, true, nextKb, nextKb, aheadK, -T.One, ahead21, lda, ahead21, lda, T.One, ahead11, lda, true, 1);
                        aheadFailed = FactorDiagonalBlock(ahead11, nextKb, lda);
                        if (aheadFailed < 0)
                        {
                            InvertLower(ahead11, nextKb, lda, aheadInverse, nextKb);
                        }

                        if (!panelForTask || aheadFailed >= 0)
                        {
                            return;
                        }

                        PackedGemm<T>.PackTransposedB(aheadInverse, nextKb, nextKb, nextKb, inverseForTask);
                        Interlocked.Exchange(ref inverseState, 1);

                        // The row blocks the items finished before the inverse was ready.
                        sweepForTask?.Invoke(scratchForTask);
                    }
                    finally
                    {
                        // Not published (the block failed, or this threw): the workers waiting for the inverse go on without it.
                        Interlocked.CompareExchange(ref inverseState, 2, 0);
                    }
                });
                PackedGemm<T>.Multiply(false, true, rest, rest, kb, -T.One, a21, lda, a21, lda, T.One, a22, lda, true, threads, firstTask: factorNext, skipLeadingRows: ahead ? nextKb : 0, afterRowBlock: multiplyPanel, afterItems: sweepPanel);
            }

            return -1;
        }
        finally
        {
            NativeMemory.AlignedFree(packedInverse);
            NativeMemory.AlignedFree(taskScratch);
            NativeMemory.AlignedFree(nextInverse);
            NativeMemory.AlignedFree(inverse);
            if (panel != null)
            {
                NativeMemory.AlignedFree(panel);
            }
        }
    }

    /// <summary>Spins until the look-ahead's first task has published the next inverse or given up (<paramref name="state"/> not 0); returns the state.</summary>
    private static int WaitForInverse(ref int state)
    {
        var spin = default(SpinWait);
        int value;
        while ((value = Volatile.Read(ref state)) == 0)
        {
            spin.SpinOnce(-1);
        }

        return value;
    }

    /// <summary>
    /// <paramref name="task"/> under the calling thread's GEMM blocking (<see cref="PackedGemm{T}.BlockingOnThisThread"/>), for a
    /// first task that worker 0 runs, which may be another thread (the thread pool's fallback): its products then block as the
    /// caller's do, and give the same bits.
    /// </summary>
    private static Action WithCallersBlocking(Action task)
    {
        var blocking = PackedGemm<T>.BlockingOnThisThread;
        return () =>
        {
            var saved = PackedGemm<T>.BlockingOnThisThread;
            PackedGemm<T>.BlockingOnThisThread = blocking;
            try
            {
                task();
            }
            finally
            {
                PackedGemm<T>.BlockingOnThisThread = saved;
            }
        };
    }

    /// <summary>Blocks at most this large are factored and inverted element by element; larger ones are split in two.</summary>
    private const int LeafSize = 32;

    /// <summary>
    /// Factors a diagonal block recursively: L11 of the leading half, the off-diagonal part A21 · L11⁻ᵀ and the update of the
    /// trailing half are GEMMs on one thread, so only blocks of at most <see cref="LeafSize"/> rows are done element by element.
    /// Returns -1 on success or the index of the first non-positive pivot.
    /// </summary>
    private static int FactorDiagonalBlock(T* a, int n, int lda)
    {
        if (n <= LeafSize)
        {
            return FactorLeaf(a, n, lda);
        }

        int n1 = Half(n), n2 = n - n1;
        int failed = FactorDiagonalBlock(a, n1, lda);
        if (failed >= 0)
        {
            return failed;
        }

        T* scratch = (T*)NativeMemory.AlignedAlloc((nuint)(((long)n1 * n1) + ((long)n2 * n1)) * (nuint)sizeof(T), 64);
        try
        {
            T* inverse = scratch, panel = scratch + ((long)n1 * n1);
            InvertLower(a, n1, lda, inverse, n1);
            T* a21 = a + ((long)n1 * lda);
            CopyRows(a21, lda, panel, n1, n2, n1);
            PackedGemm<T>.Multiply(false, true, n2, n1, n1, T.One, panel, n1, inverse, n1, T.Zero, a21, lda, false, 1);
            PackedGemm<T>.Multiply(false, true, n2, n2, n1, -T.One, a21, lda, a21, lda, T.One, a21 + n1, lda, true, 1);
        }
        finally
        {
            NativeMemory.AlignedFree(scratch);
        }

        failed = FactorDiagonalBlock(a + ((long)n1 * lda) + n1, n2, lda);
        return failed >= 0 ? n1 + failed : -1;
    }

    /// <summary>Unblocked Crout factorization of a small block (row dot products, SIMD).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static int FactorLeaf(T* a, int n, int lda)
    {
        for (int j = 0; j < n; j++)
        {
            var rowJ = new ReadOnlySpan<T>(a + ((long)j * lda), j);
            T pivot = a[((long)j * lda) + j] - TensorPrimitives.Dot(rowJ, rowJ);
            if (!(pivot > T.Zero) || !T.IsFinite(pivot))
            {
                return j;
            }

            T ljj = T.Sqrt(pivot);
            a[((long)j * lda) + j] = ljj;
            T inv = T.One / ljj;
            for (int i = j + 1; i < n; i++)
            {
                T* rowI = a + ((long)i * lda);
                rowI[j] = (rowI[j] - TensorPrimitives.Dot(new ReadOnlySpan<T>(rowI, j), rowJ)) * inv;
            }
        }

        return -1;
    }

    /// <summary>
    /// W ← L⁻¹ for a lower-triangular block, upper part zeroed: recursively, W11 = L11⁻¹, W22 = L22⁻¹ and
    /// W21 = −W22 · L21 · W11 (two GEMMs on one thread); blocks of at most <see cref="LeafSize"/> rows element by element.
    /// </summary>
    public static void InvertLower(T* l, int n, int ldl, T* w, int ldw)
    {
        if (n <= LeafSize)
        {
            InvertLeaf(l, n, ldl, w, ldw);
            return;
        }

        int n1 = Half(n), n2 = n - n1;
        InvertLower(l, n1, ldl, w, ldw);
        InvertLower(l + ((long)n1 * ldl) + n1, n2, ldl, w + ((long)n1 * ldw) + n1, ldw);
        for (int i = 0; i < n1; i++)
        {
            new Span<T>(w + ((long)i * ldw) + n1, n2).Clear();
        }

        T* product = (T*)NativeMemory.AlignedAlloc((nuint)((long)n2 * n1) * (nuint)sizeof(T), 64);
        try
        {
            PackedGemm<T>.Multiply(false, false, n2, n1, n1, T.One, l + ((long)n1 * ldl), ldl, w, ldw, T.Zero, product, n1, false, 1);
            PackedGemm<T>.Multiply(false, false, n2, n1, n2, -T.One, w + ((long)n1 * ldw) + n1, ldw, product, n1, T.Zero, w + ((long)n1 * ldw), ldw, false, 1);
        }
        finally
        {
            NativeMemory.AlignedFree(product);
        }
    }

    /// <summary>W ← L⁻¹ element by element (row by row: W_i = (e_i − Σ_{k&lt;i} L_ik W_k) / L_ii), upper part zeroed.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void InvertLeaf(T* l, int n, int ldl, T* w, int ldw)
    {
        for (int i = 0; i < n; i++)
        {
            var rowW = new Span<T>(w + ((long)i * ldw), n);
            rowW.Clear();
            T* rowL = l + ((long)i * ldl);
            for (int k = 0; k < i; k++)
            {
                T lik = rowL[k];
                if (lik != T.Zero)
                {
                    var wk = new ReadOnlySpan<T>(w + ((long)k * ldw), k + 1);
                    TensorPrimitives.MultiplyAdd(wk, -lik, rowW[..(k + 1)], rowW[..(k + 1)]);
                }
            }

            rowW[i] += T.One;
            TensorPrimitives.Multiply(rowW[..(i + 1)], T.One / rowL[i], rowW[..(i + 1)]);
        }
    }

    /// <summary>The leading part of a split: half of <paramref name="n"/>, rounded up to a multiple of 8 (the register tile's rows).</summary>
    private static int Half(int n) => Math.Min(n - 1, ((n / 2) + 7) / 8 * 8);

    /// <summary>Solves (LLᵀ)X = B in place for an n × c right-hand side, by blocks, with GEMMs (one column: <see cref="SolveVector"/>).</summary>
    public static void Solve(T* l, int n, int ldl, T* b, int c, int ldb, int threads) => Solve(l, n, ldl, b, c, ldb, threads, Passes.Both);

    /// <summary>Solves LX = B (<paramref name="transpose"/> false) or LᵀX = B (true) in place, one pass of <see cref="Solve(T*, int, int, T*, int, int, int)"/>.</summary>
    public static void SolveTriangular(T* l, int n, int ldl, T* b, int c, int ldb, int threads, bool transpose) =>
        Solve(l, n, ldl, b, c, ldb, threads, transpose ? Passes.Backward : Passes.Forward);

    private static void Solve(T* l, int n, int ldl, T* b, int c, int ldb, int threads, Passes passes)
    {
        if (c == 1)
        {
            SolveVector(l, n, ldl, b, ldb, threads, passes);
            return;
        }

        int nb = BlockSize;
        int blocks = (n + nb - 1) / nb;
        T* inverses = (T*)NativeMemory.AlignedAlloc((nuint)((long)blocks * nb * nb * sizeof(T)), 64);
        T* scratch = (T*)NativeMemory.AlignedAlloc((nuint)((long)nb * c * sizeof(T)), 64);
        try
        {
            // The diagonal blocks' inverses are independent of each other.
            T* all = inverses;
            ComputeThreads.For(blocks, threads, q =>
            {
                int k0 = q * nb, kb = Math.Min(nb, n - k0);
                InvertLower(l + ((long)k0 * ldl) + k0, kb, ldl, all + ((long)q * nb * nb), nb);
            });

            // Forward, L Y = B, then backward, Lᵀ X = Y, each recursively over halves of the blocks: the update between the
            // halves is one GEMM as deep as the half (B's rows packed once for all of L's rows below), not one per block. Runs
            // of at most PipelineBlocks blocks go block by block with a look-ahead where the right-hand sides are wide enough
            // for the GEMM's packed path; otherwise the recursion goes down to single blocks.
            int run = c > PackedGemm<T>.FewColumns ? Math.Max(1, PipelineBlocksOnThisThread ?? PipelineBlocks) : 1;
            if ((passes & Passes.Forward) != 0)
            {
                Recurse(l, n, ldl, b, c, ldb, inverses, scratch, nb, 0, blocks, backward: false, threads, run);
            }

            if ((passes & Passes.Backward) != 0)
            {
                Recurse(l, n, ldl, b, c, ldb, inverses, scratch, nb, 0, blocks, backward: true, threads, run);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(inverses);
            NativeMemory.AlignedFree(scratch);
        }
    }

    /// <summary>
    /// The most blocks of a solve that go block by block with a look-ahead (<see cref="Pipelined"/>) instead of being split
    /// further: 8 (768 rows at the usual block of 96, whose part of L stays in cache between its steps).
    /// </summary>
    internal const int PipelineBlocks = 8;

    [ThreadStatic]
    private static int? pipelineBlocksOnThisThread;

    /// <summary>
    /// Another <see cref="PipelineBlocks"/> for the solves the calling thread starts (null, the default: the constant; 1: the
    /// recursion down to single blocks); tests and the measurement set it.
    /// </summary>
    internal static int? PipelineBlocksOnThisThread
    {
        get => pipelineBlocksOnThisThread;
        set => pipelineBlocksOnThisThread = value;
    }

    /// <summary>
    /// L Y = B (<paramref name="backward"/> false) or Lᵀ X = Y (true) for the rows of blocks [<paramref name="q0"/>,
    /// <paramref name="q1"/>), block by block: each solved block q updates the run's rows still to solve with one GEMM as deep
    /// as the block, B_rest −= L[rest, q]·Y_q (backward: Y_rest −= L[q, rest]ᵀ·X_q). The block solved next is taken out of that
    /// GEMM: worker 0 updates its rows and solves it (its precomputed inverse times its rows) as the GEMM's first task, while
    /// the other workers update the rest, so that the threads do not wait on a block's solve while rows are left to update
    /// (only the run's last block is solved alone). On one thread the same products run one after the other, so the result
    /// does not depend on the number of threads.
    /// </summary>
    /// <remarks>The recursive solve's long updates go deeper than nb and pack each of B's rows once for all the rows below;
    /// this one packs a block's solved rows per step, but its steps do not wait on the one thread that solves the next
    /// block (docs/benchmarks.md, seventeenth session).</remarks>
    private static void Pipelined(T* l, int n, int ldl, T* b, int c, int ldb, T* inverses, T* scratch, int nb, int q0, int q1, bool backward, int threads)
    {
        int rowStart = q0 * nb, rowEnd = Math.Min(q1 * nb, n);
        if (!backward)
        {
            SolveBlock(n, b, c, ldb, inverses, scratch, nb, q0, backward: false);
            for (int q = q0; q + 1 < q1; q++)
            {
                // Block q (whole: it has rows below) is solved; block q + 1 is rows r0 … r1 − 1, the rest of the run r1 … rowEnd − 1.
                int k0 = q * nb, r0 = k0 + nb, r1 = Math.Min(rowEnd, r0 + nb), next = q + 1;
                T* yq = b + ((long)k0 * ldb);
                T* lq = l + k0;
                Action task = WithCallersBlocking(() =>
                {
                    PackedGemm<T>.Multiply(false, false, r1 - r0, c, nb, -T.One, lq + ((long)r0 * ldl), ldl, yq, ldb, T.One, b + ((long)r0 * ldb), ldb, false, 1);
                    SolveBlock(n, b, c, ldb, inverses, scratch, nb, next, backward: false);
                });
                UpdateWithFirstTask(false, rowEnd - r1, c, nb, lq + ((long)r1 * ldl), ldl, yq, ldb, b + ((long)r1 * ldb), ldb, threads, task);
            }

            return;
        }

        SolveBlock(n, b, c, ldb, inverses, scratch, nb, q1 - 1, backward: true);
        for (int q = q1 - 1; q > q0; q--)
        {
            // Block q (rows k0 … k0 + kb − 1) is solved; block q − 1 is rows r0 … k0 − 1 (whole), the rest of the run rowStart … r0 − 1.
            int k0 = q * nb, kb = Math.Min(nb, n - k0), r0 = k0 - nb, next = q - 1;
            T* xq = b + ((long)k0 * ldb);
            T* lq = l + ((long)k0 * ldl);
            Action task = WithCallersBlocking(() =>
            {
                PackedGemm<T>.Multiply(true, false, nb, c, kb, -T.One, lq + r0, ldl, xq, ldb, T.One, b + ((long)r0 * ldb), ldb, false, 1);
                SolveBlock(n, b, c, ldb, inverses, scratch, nb, next, backward: true);
            });
            UpdateWithFirstTask(true, r0 - rowStart, c, kb, lq + rowStart, ldl, xq, ldb, b + ((long)rowStart * ldb), ldb, threads, task);
        }
    }

    /// <summary>C −= op(A)·B (m × c, k deep) on <paramref name="threads"/> threads with <paramref name="task"/> run by worker 0 first, or the task and then the product where the GEMM takes no first task.</summary>
    private static void UpdateWithFirstTask(bool transA, int m, int c, int k, T* a, int lda, T* bq, int ldb, T* cRows, int ldc, int threads, Action task)
    {
        if (PackedGemm<T>.TakesFirstTask(transA, m, c, k, false, threads))
        {
            PackedGemm<T>.Multiply(transA, false, m, c, k, -T.One, a, lda, bq, ldb, T.One, cRows, ldc, false, threads, firstTask: task);
            return;
        }

        task();
        PackedGemm<T>.Multiply(transA, false, m, c, k, -T.One, a, lda, bq, ldb, T.One, cRows, ldc, false, threads);
    }

    /// <summary>Block q's rows of B ← L_qq⁻¹·B_q (or L_qq⁻ᵀ·B_q, <paramref name="backward"/>) with the block's precomputed inverse, on <paramref name="threads"/> threads (the calling thread's alone by default).</summary>
    private static void SolveBlock(int n, T* b, int c, int ldb, T* inverses, T* scratch, int nb, int q, bool backward, int threads = 1)
    {
        int k0 = q * nb, kb = Math.Min(nb, n - k0);
        T* bq = b + ((long)k0 * ldb);
        CopyRows(bq, ldb, scratch, c, kb, c);
        PackedGemm<T>.Multiply(backward, false, kb, c, kb, T.One, inverses + ((long)q * nb * nb), nb, scratch, c, T.Zero, bq, ldb, false, threads);
    }

    /// <summary>
    /// L Y = B (<paramref name="backward"/> false) or Lᵀ X = Y (true) for the rows of blocks [<paramref name="q0"/>,
    /// <paramref name="q1"/>). One block is Y_q = L_qq⁻¹ B_q (or X_q = L_qq⁻ᵀ Y_q) with the block's precomputed inverse. More
    /// blocks: forward, the first half, then B₂ −= L₂₁ Y₁ (one GEMM), then the second half; backward, the second half, then
    /// Y₁ −= L₂₁ᵀ X₂, then the first half.
    /// </summary>
    private static void Recurse(T* l, int n, int ldl, T* b, int c, int ldb, T* inverses, T* scratch, int nb, int q0, int q1, bool backward, int threads, int run)
    {
        if (q1 <= q0)
        {
            // No blocks (n = 0).
            return;
        }

        if (q1 - q0 == 1)
        {
            int kb = Math.Min(nb, n - (q0 * nb));
            SolveBlock(n, b, c, ldb, inverses, scratch, nb, q0, backward, Workers(kb, c, kb, threads));
            return;
        }

        if (q1 - q0 <= run)
        {
            Pipelined(l, n, ldl, b, c, ldb, inverses, scratch, nb, q0, q1, backward, threads);
            return;
        }

        int qm = (q0 + q1) / 2;
        int r0 = q0 * nb, r1 = qm * nb, r2 = Math.Min(q1 * nb, n);
        T* l21 = l + ((long)r1 * ldl) + r0;
        T* b1 = b + ((long)r0 * ldb), b2 = b + ((long)r1 * ldb);
        Recurse(l, n, ldl, b, c, ldb, inverses, scratch, nb, backward ? qm : q0, backward ? q1 : qm, backward, threads, run);
        if (backward)
        {
            PackedGemm<T>.Multiply(true, false, r1 - r0, c, r2 - r1, -T.One, l21, ldl, b2, ldb, T.One, b1, ldb, false, Workers(r1 - r0, c, r2 - r1, threads));
        }
        else
        {
            PackedGemm<T>.Multiply(false, false, r2 - r1, c, r1 - r0, -T.One, l21, ldl, b1, ldb, T.One, b2, ldb, false, Workers(r2 - r1, c, r1 - r0, threads));
        }

        Recurse(l, n, ldl, b, c, ldb, inverses, scratch, nb, backward ? q0 : qm, backward ? qm : q1, backward, threads, run);
    }

    /// <summary>
    /// The recursion's products of fewer multiply-adds than this run on one thread (a look-ahead run's steps take every thread:
    /// their first task runs beside the items): 2²⁰, tens of microseconds on one core, which
    /// takes in the diagonal blocks' products (96 × c × 96 for c up to 113) and the smallest updates between them, where
    /// splitting costs more in the fork and join than it saves. The solve with grokking's 61 right-hand sides at n = 1,860 took
    /// 4–10% less time at best and 2–5% at the median in four in-process runs (docs/cpu/2026-11-27-s12/solve-small-products.txt).
    /// </summary>
    internal const long SingleThreadedBelow = 1L << 20;

    [ThreadStatic]
    private static long? singleThreadedBelowOnThisThread;

    /// <summary>Another threshold for the solves the calling thread starts (null, the default: <see cref="SingleThreadedBelow"/>); tests and the measurement set it.</summary>
    internal static long? SingleThreadedBelowOnThisThread
    {
        get => singleThreadedBelowOnThisThread;
        set => singleThreadedBelowOnThisThread = value;
    }

    private static int Workers(int m, int c, int k, int threads) => (long)m * c * k < (SingleThreadedBelowOnThisThread ?? SingleThreadedBelow) ? 1 : threads;

    /// <summary>
    /// Solves (LLᵀ)x = b in place for one right-hand side (stride <paramref name="ldb"/>): memory-bound, so row dot products for
    /// the forward pass and row AXPYs for the backward pass, each reading the lower triangle once, instead of GEMMs whose
    /// register tile would be NR columns wide for one useful column. Rows are split between the threads in blocks of
    /// <see cref="BlockSize"/>; the backward pass sums per-thread partial updates of each block.
    /// </summary>
    private static void SolveVector(T* l, int n, int ldl, T* b, int ldb, int threads, Passes passes)
    {
        int nb = BlockSize;
        T[] x = new T[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = b[(long)i * ldb];
        }

        int workers = Math.Max(1, Math.Min(threads, 8));
        var partial = new T[(long)workers * n];
        fixed (T* xp = x, pp = partial)
        {
            T* xs = xp;
            T* ps = pp;

            // Forward, L y = b: per block, the rows' dot products with the solved part (in parallel), then the small triangle.
            for (int k0 = 0; (passes & Passes.Forward) != 0 && k0 < n; k0 += nb)
            {
                int kb = Math.Min(nb, n - k0);
                int start = k0;
                if (k0 > 0)
                {
                    ComputeThreads.Run(workers, w =>
                    {
                        var solved = new ReadOnlySpan<T>(xs, start);
                        for (int i = start + w; i < start + kb; i += workers)
                        {
                            xs[i] -= TensorPrimitives.Dot(new ReadOnlySpan<T>(l + ((long)i * ldl), start), solved);
                        }
                    });
                }

                for (int i = k0; i < k0 + kb; i++)
                {
                    T* row = l + ((long)i * ldl);
                    xs[i] = (xs[i] - TensorPrimitives.Dot(new ReadOnlySpan<T>(row + k0, i - k0), new ReadOnlySpan<T>(xs + k0, i - k0))) / row[i];
                }
            }

            // Backward, Lᵀ x = y: per block (last first), the small triangle, then every row of the block scatters into the rows
            // above it: x[0..k0) −= x_i · L[i, 0..k0), split by rows between the threads with per-thread partial sums.
            for (int k0 = (n - 1) / nb * nb; (passes & Passes.Backward) != 0 && k0 >= 0; k0 -= nb)
            {
                int kb = Math.Min(nb, n - k0);
                for (int i = k0 + kb - 1; i >= k0; i--)
                {
                    T xi = xs[i] / l[((long)i * ldl) + i];
                    xs[i] = xi;
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(l + ((long)i * ldl) + k0, i - k0), -xi, new ReadOnlySpan<T>(xs + k0, i - k0), new Span<T>(xs + k0, i - k0));
                }

                if (k0 == 0)
                {
                    break;
                }

                // Rows k0 … k0 + kb − 1 update x[0..k0): each worker sums its rows' contributions, then the partial sums are
                // subtracted.
                int top = k0;
                ComputeThreads.Run(workers, w =>
                {
                    var acc = new Span<T>(ps + ((long)w * n), top);
                    acc.Clear();
                    for (int i = top + w; i < top + kb; i += workers)
                    {
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(l + ((long)i * ldl), top), xs[i], acc, acc);
                    }
                });
                var target = new Span<T>(xs, top);
                for (int w = 0; w < workers; w++)
                {
                    TensorPrimitives.Subtract(target, new ReadOnlySpan<T>(ps + ((long)w * n), top), target);
                }
            }
        }

        for (int i = 0; i < n; i++)
        {
            b[(long)i * ldb] = x[i];
        }
    }

    /// <summary>The same copy as <see cref="CopyRows"/>, the rows shared between the threads in pieces of at least 2¹⁵ elements.</summary>
    private static void CopyRowsParallel(T* src, int lds, T* dst, int ldd, int rows, int cols, int threads)
    {
        int per = Math.Max(1, (1 << 15) / Math.Max(1, cols));
        int pieces = (rows + per - 1) / per;
        ComputeThreads.For(pieces, threads, q =>
        {
            int i0 = q * per;
            CopyRows(src + ((long)i0 * lds), lds, dst + ((long)i0 * ldd), ldd, Math.Min(per, rows - i0), cols);
        });
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows(T* src, int lds, T* dst, int ldd, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
        {
            new ReadOnlySpan<T>(src + ((long)i * lds), cols).CopyTo(new Span<T>(dst + ((long)i * ldd), cols));
        }
    }

    /// <summary>The passes of a solve with LLᵀ: L⁻¹ (forward), L⁻ᵀ (backward), or both.</summary>
    [Flags]
    private enum Passes
    {
        Forward = 1,
        Backward = 2,
        Both = Forward | Backward,
    }
}

/// <summary>Which threads multiply the next panel's row blocks in <see cref="BlockedCholesky{T}"/>'s panel look-ahead.</summary>
internal enum CholeskyPanelPath
{
    /// <summary>The item that wrote a row block, once the inverse is ready; otherwise the first task after it publishes the inverse, or a worker out of items.</summary>
    Any,

    /// <summary>Always the item that wrote it, waiting for the inverse where it must (a test path).</summary>
    Items,

    /// <summary>Always a worker out of items (a test path).</summary>
    Sweep,
}
