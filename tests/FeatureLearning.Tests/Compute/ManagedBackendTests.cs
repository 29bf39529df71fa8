using FeatureLearning.Compute;
using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Tests.Compute;

/// <summary>The conformance suite on the managed backend (all cores).</summary>
public sealed class ManagedBackendTests : BackendConformanceTests
{
    protected override IComputeBackend CreateBackend() => new ManagedBackend();

    [Fact]
    public void DescribeReportsThreadsAndSimdWidth()
    {
        string text = Backend.Describe();
        text.Should().Contain($"{Environment.ProcessorCount} thread");
        text.Should().Contain($"SIMD {PackedGemm<double>.SimdBits}-bit");
    }

    /// <summary>
    /// The blocked Cholesky solve with small blocks (deep recursion over many blocks, an odd count, a partial last one) on
    /// right-hand sides that are a column range of a wider buffer (leading dimension above c), against MathNet's solve: the
    /// columns outside the range are left alone. Also an empty system. With 400 rows and 40 columns, the updates near the top of
    /// the recursion run on all threads and the diagonal blocks' products on one (<see cref="BlockedCholesky{T}.SingleThreadedBelow"/>).
    /// </summary>
    [Theory]
    [InlineData(8, 101, 5)]
    [InlineData(16, 77, 19)]
    [InlineData(8, 8, 3)]
    [InlineData(32, 400, 40)]
    public void CholeskySolveWithSmallBlocksAndStridedRightHandSides(int block, int n, int c)
    {
        var rng = new Random(n + c);
        var g = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() - 0.5);
        var a = (g * g.Transpose()) + MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseIdentity(n);
        var wide = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, c + 3, (_, _) => rng.NextDouble() - 0.5);
        BlockedCholesky<double>.BlockSizeOnThisThread = block;
        try
        {
            // The rule, then every product on all threads, then every product on one (on this thread only: other tests'
            // solves keep the rule).
            foreach (long? below in new long?[] { null, 0, long.MaxValue })
            {
                BlockedCholesky<double>.SingleThreadedBelowOnThisThread = below;
                SolveAndCheck(a, wide, n, c);
            }

            using var empty = Backend.Allocate<double>(0, 0);
            using var none = Backend.Allocate<double>(0, 2);
            Backend.CholeskySolve(empty, none);
        }
        finally
        {
            BlockedCholesky<double>.BlockSizeOnThisThread = null;
            BlockedCholesky<double>.SingleThreadedBelowOnThisThread = null;
        }
    }

    /// <summary>
    /// The Cholesky factor with each block column's panel multiplied by the diagonal block's inverse in place (the rule, where
    /// the GEMM packs every row block whole before writing it; each column panel stopping at the depth where the inverse's
    /// transpose turns zero, and, as a check, multiplying the zeros too) against the factor from a copy of the panel: the same bits,
    /// in both precisions, with blocks of 17, 20, 32, 100 (orders that leave partial register tiles and a partial last column
    /// panel) and the rule's, on one thread and on four workers (where the panels near the bottom have few row blocks, which the
    /// product would otherwise split by columns too); and the factor against MathNet's. Blocks of 8 (no more columns than
    /// PackedGemm.FewColumns) and a blocking shallower than the block (KC 64 under blocks of 96) cannot work in place and take
    /// the copy, which the test checks too.
    /// </summary>
    [Theory]
    [InlineData(8, 203, false)]
    [InlineData(17, 230, false)]
    [InlineData(20, 171, false)]
    [InlineData(32, 400, false)]
    [InlineData(100, 333, false)]
    [InlineData(null, 517, false)]
    [InlineData(96, 300, true)]
    public unsafe void InPlacePanelsGiveTheSameFactorAsCopiedOnes(int? block, int n, bool shallow)
    {
        var (host, expected) = SpdSystem(n, n);
        BlockedCholesky<double>.BlockSizeOnThisThread = block;
        BlockedCholesky<float>.BlockSizeOnThisThread = block;
        if (shallow)
        {
            PackedGemm<double>.BlockingOnThisThread = PackedGemm<double>.Blocking with { Kc = 64 };
            PackedGemm<float>.BlockingOnThisThread = PackedGemm<float>.Blocking with { Kc = 64 };
        }

        try
        {
            int nb = BlockedCholesky<double>.BlockSize;
            PackedGemm<double>.CanMultiplyRowsInPlace(nb, nb).Should().Be(!shallow && nb > PackedGemm<double>.FewColumns);
            foreach (int threads in new[] { 1, 4 })
            {
                var copied = Factor(host, n, threads, copy: true);
                var inPlace = Factor(host, n, threads, copy: false);
                inPlace.Should().Equal(copied, $"blocks of {nb} on {threads} worker(s)");
                Factor(host, n, threads, copy: false, full: true).Should().Equal(copied, "with the inverse's zeros multiplied too");
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        inPlace[(i * n) + j].Should().BeApproximately(expected[i, j], 1e-12, $"L[{i}, {j}]");
                    }
                }

                var single = Array.ConvertAll(host, v => (float)v);
                Factor(single, n, threads, copy: false).Should().Equal(Factor(single, n, threads, copy: true), "single precision");
            }
        }
        finally
        {
            BlockedCholesky<double>.BlockSizeOnThisThread = null;
            BlockedCholesky<float>.BlockSizeOnThisThread = null;
            PackedGemm<double>.BlockingOnThisThread = null;
            PackedGemm<float>.BlockingOnThisThread = null;
        }

        static T[] Factor<T>(T[] source, int n, int threads, bool copy, bool full = false)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var work = (T[])source.Clone();
            BlockedCholesky<T>.PanelCopyOnThisThread = copy;
            BlockedCholesky<T>.FullPanelProductOnThisThread = full;
            try
            {
                fixed (T* p = work)
                {
                    BlockedCholesky<T>.Factor(p, n, n, threads, CancellationToken.None).Should().Be(-1);
                }
            }
            finally
            {
                BlockedCholesky<T>.PanelCopyOnThisThread = null;
                BlockedCholesky<T>.FullPanelProductOnThisThread = null;
            }

            return work;
        }
    }

    /// <summary>
    /// The Cholesky factor with the look-ahead (worker 0 updates, factors and inverts the next diagonal block as the trailing
    /// update's first task, the update's items skipping its rows) against without: the same bits in both precisions, on two and
    /// four workers, with the rule's blocks and with blocks of 32, 40 and 64 (the look-ahead taken where a block is whole row
    /// blocks of the GEMM's MC, which the test checks where it holds), an order leaving a partial last block; a matrix that is
    /// not positive definite fails at the same pivot either way, in the last block and in the second (factored ahead); and the
    /// first task with skipped rows is refused where the product cannot leave them, or with α = 0.
    /// </summary>
    [Theory]
    [InlineData(null, 517)]
    [InlineData(32, 301)]
    [InlineData(64, 450)]
    [InlineData(40, 203)]
    public unsafe void LookaheadGivesTheSameFactor(int? block, int n)
    {
        var (host, expected) = SpdSystem(n, n + 1);
        var indefinite = (double[])host.Clone();
        indefinite[((n - 7) * n) + n - 7] = -1;
        BlockedCholesky<double>.BlockSizeOnThisThread = block;
        BlockedCholesky<float>.BlockSizeOnThisThread = block;
        try
        {
            int nb = BlockedCholesky<double>.BlockSize;
            var early = (double[])host.Clone();
            early[((nb + 3) * n) + nb + 3] = -1;
            int mc = PackedGemm<double>.Blocking.Mc;
            if (nb % mc == 0 && mc % PackedGemm<double>.MR == 0)
            {
                PackedGemm<double>.CanSkipLeadingRows(n - nb, n - nb, nb, nb, true, 1.0, 2).Should().BeTrue("the first step takes the look-ahead");
            }

            foreach (int threads in new[] { 2, 4 })
            {
                var (without, failedWithout) = Factor(host, n, threads, lookahead: false);
                var (with, failedWith) = Factor(host, n, threads, lookahead: true);
                failedWith.Should().Be(-1);
                failedWithout.Should().Be(-1);
                with.Should().Equal(without, $"blocks of {BlockedCholesky<double>.BlockSize} on {threads} workers");
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        with[(i * n) + j].Should().BeApproximately(expected[i, j], 1e-12, $"L[{i}, {j}]");
                    }
                }

                var single = Array.ConvertAll(host, v => (float)v);
                Factor(single, n, threads, lookahead: true).Factor.Should().Equal(Factor(single, n, threads, lookahead: false).Factor, "single precision");
                Factor(indefinite, n, threads, lookahead: true).Failed.Should().Be(Factor(indefinite, n, threads, lookahead: false).Failed).And.BeInRange(0, n - 7);
                Factor(early, n, threads, lookahead: true).Failed.Should().Be(Factor(early, n, threads, lookahead: false).Failed).And.BeInRange(nb, nb + 3);
            }
        }
        finally
        {
            BlockedCholesky<double>.BlockSizeOnThisThread = null;
            BlockedCholesky<float>.BlockSizeOnThisThread = null;
        }

        var c = new double[64 * 64];
        fixed (double* pc = c)
        {
            double* cc = pc;
            // 21 rows: no whole number of row blocks under any micro-kernel's MR (8, 4) and any MC (20 was whole under the AVX2
            // kernel's MR = 4 with the Zen 4's MC).
            Action unaligned = () => PackedGemm<double>.Multiply(false, true, 64, 64, 8, -1.0, cc, 64, cc, 64, 1.0, cc, 64, true, 2, firstTask: () => { }, skipLeadingRows: 21);
            Action notLower = () => PackedGemm<double>.Multiply(false, true, 64, 64, 8, -1.0, cc, 64, cc, 64, 1.0, cc, 64, false, 2, skipLeadingRows: 32);
            Action zeroAlpha = () => PackedGemm<double>.Multiply(false, true, 64, 64, 8, 0.0, cc, 64, cc, 64, 1.0, cc, 64, true, 2, firstTask: () => { }, skipLeadingRows: 32);
            unaligned.Should().Throw<ArgumentException>().WithParameterName("skipLeadingRows");
            notLower.Should().Throw<ArgumentException>().WithParameterName("skipLeadingRows");
            zeroAlpha.Should().Throw<ArgumentException>().WithParameterName("skipLeadingRows");
        }

        static (T[] Factor, int Failed) Factor<T>(T[] source, int n, int threads, bool lookahead)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var work = (T[])source.Clone();
            BlockedCholesky<T>.LookaheadOnThisThread = lookahead;
            try
            {
                fixed (T* p = work)
                {
                    int failed = BlockedCholesky<T>.Factor(p, n, n, threads, CancellationToken.None);
                    return (work, failed);
                }
            }
            finally
            {
                BlockedCholesky<T>.LookaheadOnThisThread = null;
            }
        }
    }

    /// <summary>A seeded n × n symmetric positive definite matrix GGᵀ/n + I (row-major) and its Cholesky factor by MathNet.</summary>
    private static (double[] Host, MathNet.Numerics.LinearAlgebra.Matrix<double> Factor) SpdSystem(int n, int seed)
    {
        var rng = new Random(seed);
        var g = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() - 0.5);
        var a = (g * g.Transpose() / n) + MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseIdentity(n);
        return (a.ToRowMajorArray(), a.Cholesky().Factor);
    }

    /// <summary>
    /// The Cholesky factor with the panel look-ahead (the update's items multiply each row block of the next panel by the next
    /// inverse as soon as they have written it) against without: the same bits in both precisions on 2, 3 and 4 workers, with
    /// the rule's blocks and with blocks of 32, under the rule's GEMM blocking and one with row blocks of two register tiles
    /// (so that the path is taken whatever this CPU's MC); the path taken (counted), the factor equal to MathNet's; a matrix
    /// not positive definite in the block factored ahead, and in the last, fails at the same pivot either way; and the same
    /// with every row block forced onto the item that wrote it, and onto the workers out of items.
    /// </summary>
    [Theory]
    [InlineData(null, false, 347)]
    [InlineData(32, false, 301)]
    [InlineData(null, true, 347)]
    [InlineData(32, true, 203)]
    public unsafe void PanelLookaheadGivesTheSameFactor(int? block, bool smallRowBlocks, int n)
    {
        var (host, expected) = SpdSystem(n, n + 5);
        BlockedCholesky<double>.BlockSizeOnThisThread = block;
        BlockedCholesky<float>.BlockSizeOnThisThread = block;
        if (smallRowBlocks)
        {
            PackedGemm<double>.BlockingOnThisThread = PackedGemm<double>.Blocking with { Mc = 2 * PackedGemm<double>.MR };
            PackedGemm<float>.BlockingOnThisThread = PackedGemm<float>.Blocking with { Mc = 2 * PackedGemm<float>.MR };
        }

        try
        {
            int nb = BlockedCholesky<double>.BlockSize;
            var second = (double[])host.Clone();
            second[((nb + 3) * n) + nb + 3] = -1;
            var last = (double[])host.Clone();
            last[((n - 7) * n) + n - 7] = -1;
            foreach (int threads in new[] { 2, 3, 4 })
            {
                var (without, failedWithout, _) = Factor(host, n, threads, panel: false);
                var (with, failedWith, steps) = Factor(host, n, threads, panel: true);
                failedWithout.Should().Be(-1);
                failedWith.Should().Be(-1);
                with.Should().Equal(without, $"blocks of {nb} on {threads} workers");

                // Each row block multiplied by the item that wrote it, or all by workers out of items: the same bits.
                foreach (var path in new[] { CholeskyPanelPath.Items, CholeskyPanelPath.Sweep })
                {
                    Factor(host, n, threads, panel: true, path).Factor.Should().Equal(without, $"{path} on {threads} workers");
                    Factor(Array.ConvertAll(host, v => (float)v), n, threads, panel: true, path).Factor
                        .Should().Equal(Factor(Array.ConvertAll(host, v => (float)v), n, threads, panel: false).Factor, $"{path} on {threads} workers, single");
                    Factor(second, n, threads, panel: true, path).Failed.Should().Be(Factor(second, n, threads, panel: false).Failed, $"{path}");
                }
                // The first update multiplies the next panel where its row blocks are enough for the threads: on two threads
                // always under the small row blocks, whatever this CPU's MC.
                bool firstTakesIt = PackedGemm<double>.ReportsRowBlocks(n - nb, nb, threads);
                if (smallRowBlocks && threads == 2)
                {
                    firstTakesIt.Should().BeTrue();
                }

                if (firstTakesIt)
                {
                    steps.Should().BeGreaterThan(0, "the first update multiplies the next panel");
                }

                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        with[(i * n) + j].Should().BeApproximately(expected[i, j], 1e-12, $"L[{i}, {j}]");
                    }
                }

                var single = Array.ConvertAll(host, v => (float)v);
                var (singleWith, _, singleSteps) = Factor(single, n, threads, panel: true);
                singleWith.Should().Equal(Factor(single, n, threads, panel: false).Factor, "single precision");
                if (PackedGemm<float>.ReportsRowBlocks(n - nb, nb, threads))
                {
                    singleSteps.Should().BeGreaterThan(0);
                }

                Factor(second, n, threads, panel: true).Failed.Should().Be(Factor(second, n, threads, panel: false).Failed).And.BeInRange(nb, nb + 3);
                Factor(last, n, threads, panel: true).Failed.Should().Be(Factor(last, n, threads, panel: false).Failed).And.BeInRange(0, n - 7);
            }
        }
        finally
        {
            BlockedCholesky<double>.BlockSizeOnThisThread = null;
            BlockedCholesky<float>.BlockSizeOnThisThread = null;
            PackedGemm<double>.BlockingOnThisThread = null;
            PackedGemm<float>.BlockingOnThisThread = null;
        }

        static (T[] Factor, int Failed, int Steps) Factor<T>(T[] source, int n, int threads, bool panel, CholeskyPanelPath? path = null)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var work = (T[])source.Clone();
            BlockedCholesky<T>.PanelLookaheadOnThisThread = panel;
            BlockedCholesky<T>.PanelPathOnThisThread = path;
            int before = BlockedCholesky<T>.PanelLookaheadSteps;
            try
            {
                fixed (T* p = work)
                {
                    int failed = BlockedCholesky<T>.Factor(p, n, n, threads, CancellationToken.None);
                    int steps = BlockedCholesky<T>.PanelLookaheadSteps - before;
                    if (!panel)
                    {
                        steps.Should().Be(0, "the panel look-ahead is off");
                    }

                    return (work, failed, steps);
                }
            }
            finally
            {
                BlockedCholesky<T>.PanelLookaheadOnThisThread = null;
                BlockedCholesky<T>.PanelPathOnThisThread = null;
            }
        }
    }

    /// <summary>
    /// The solve's runs of blocks done one by one with a look-ahead (<see cref="BlockedCholesky{T}.PipelineBlocks"/>) against
    /// the recursion down to single blocks (runs of 1) and against MathNet: runs of 2, 3, the rule's 8 and all the blocks, with
    /// blocks of 16 and 32 over orders that leave a partial last block, right-hand sides that are a column range of a wider
    /// buffer (leading dimension above c), in both precisions and both passes alone (L Y = B, Lᵀ X = Y); on 1, 2 and 4 workers,
    /// a run's result the same bits on each. With 17 and 40 columns the runs take the GEMM's packed path; 16 columns or fewer
    /// take the recursion whatever the run length, which the test checks too (the same bits as runs of 1).
    /// </summary>
    [Theory]
    [InlineData(16, 203, 17)]
    [InlineData(32, 301, 40)]
    [InlineData(16, 150, 16)]
    [InlineData(32, 33, 61)]
    public unsafe void PipelinedRunsSolveAsTheRecursion(int block, int n, int c)
    {
        var rng = new Random(n * c);
        var g = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() - 0.5);
        var a = (g * g.Transpose()) + (n * MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseIdentity(n) / 4);
        var factor = a.Cholesky().Factor;
        int ld = c + 3;
        var wide = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, ld, (_, _) => rng.NextDouble() - 0.5);
        var rhs = wide.SubMatrix(0, n, 1, c);
        var forward = factor.Solve(rhs);
        var expected = new[] { factor.Transpose().Solve(forward), forward, factor.Transpose().Solve(rhs) };
        Check<double>(1e-10);
        Check<float>(2e-4);

        void Check<T>(double tolerance)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var l = factor.ToRowMajorArray().Select(T.CreateTruncating).ToArray();
            var b = wide.ToRowMajorArray().Select(T.CreateTruncating).ToArray();
            BlockedCholesky<T>.BlockSizeOnThisThread = block;
            try
            {
                for (int pass = 0; pass < 3; pass++)
                {
                    T[]? single = null;
                    foreach (int run in new[] { 1, 2, 3, 8, 1000 })
                    {
                        T[]? firstWorkers = null;
                        foreach (int threads in new[] { 1, 2, 4 })
                        {
                            var x = Solve(l, b, pass, run, threads);
                            for (int i = 0; i < n; i++)
                            {
                                x[i * ld].Should().Be(b[i * ld], "column 0 lies outside the range");
                                x[(i * ld) + c + 1].Should().Be(b[(i * ld) + c + 1], "column c + 1 lies outside the range");
                                for (int j = 0; j < c; j++)
                                {
                                    double e = expected[pass][i, j];
                                    double.CreateTruncating(x[(i * ld) + 1 + j]).Should().BeApproximately(e, tolerance * (1 + Math.Abs(e)), $"{typeof(T).Name} x[{i}, {j}], pass {pass}, runs of {run}, {threads} workers");
                                }
                            }

                            firstWorkers ??= x;
                            x.Should().Equal(firstWorkers, $"{typeof(T).Name}, pass {pass}, runs of {run}: {threads} workers against 1");
                        }

                        single ??= firstWorkers;
                        if (c <= PackedGemm<T>.FewColumns)
                        {
                            firstWorkers.Should().Equal(single, $"{c} columns take the recursion whatever the run length");
                        }
                    }
                }
            }
            finally
            {
                BlockedCholesky<T>.BlockSizeOnThisThread = null;
            }
        }

        T[] Solve<T>(T[] l, T[] b, int pass, int run, int threads)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var x = (T[])b.Clone();
            BlockedCholesky<T>.PipelineBlocksOnThisThread = run;
            try
            {
                fixed (T* lp = l, xp = x)
                {
                    if (pass == 0)
                    {
                        BlockedCholesky<T>.Solve(lp, n, n, xp + 1, c, ld, threads);
                    }
                    else
                    {
                        BlockedCholesky<T>.SolveTriangular(lp, n, n, xp + 1, c, ld, threads, transpose: pass == 2);
                    }
                }
            }
            finally
            {
                BlockedCholesky<T>.PipelineBlocksOnThisThread = null;
            }

            return x;
        }
    }

    /// <summary>
    /// A product's first task without skipped rows (the solve's look-ahead): run once, by worker 0, beside the items, on 1, 2
    /// and 4 workers, the product the same bits as without a task; refused where the product would not run it (a few columns,
    /// taken by the memory-bound path; α = 0; an empty product; a small C split along a deep k on two threads).
    /// </summary>
    [Fact]
    public unsafe void FirstTaskWithoutSkippedRowsRunsOnceBesideTheItems()
    {
        var rng = new Random(5);
        int m = 203, n = 40, k = 96;
        var a = Enumerable.Range(0, m * k).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var c0 = Enumerable.Range(0, m * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var without = (double[])c0.Clone();
        fixed (double* pa = a, pb = b, pc = without)
        {
            PackedGemm<double>.Multiply(false, false, m, n, k, -1.0, pa, k, pb, n, 1.0, pc, n, false, 1);
        }

        foreach (int threads in new[] { 1, 2, 4 })
        {
            var with = (double[])c0.Clone();
            int runs = 0;
            PackedGemm<double>.TakesFirstTask(false, m, n, k, false, threads).Should().BeTrue();
            fixed (double* pa = a, pb = b, pc = with)
            {
                PackedGemm<double>.Multiply(false, false, m, n, k, -1.0, pa, k, pb, n, 1.0, pc, n, false, threads, firstTask: () => Interlocked.Increment(ref runs));
            }

            runs.Should().Be(1, $"{threads} workers");
            with.Should().Equal(without, $"{threads} workers");
        }

        fixed (double* pa = a, pb = b, pc = without)
        {
            double* aa = pa, bb = pb, cc = pc;
            Action few = () => PackedGemm<double>.Multiply(false, false, m, 8, k, -1.0, aa, k, bb, n, 1.0, cc, n, false, 2, firstTask: () => { });
            Action zeroAlpha = () => PackedGemm<double>.Multiply(false, false, m, n, k, 0.0, aa, k, bb, n, 1.0, cc, n, false, 2, firstTask: () => { });
            Action empty = () => PackedGemm<double>.Multiply(false, false, 0, n, k, -1.0, aa, k, bb, n, 1.0, cc, n, false, 2, firstTask: () => { });
            few.Should().Throw<ArgumentException>().WithParameterName("firstTask");
            zeroAlpha.Should().Throw<ArgumentException>().WithParameterName("firstTask");
            empty.Should().Throw<ArgumentException>().WithParameterName("firstTask");
        }

        // A small C and a deep k: the product is split along k on two threads (no first task there), not on one.
        var deepA = new double[1400];
        var deepB = new double[1400 * n];
        var deepC = new double[n];
        fixed (double* pa = deepA, pb = deepB, pc = deepC)
        {
            double* aa = pa, bb = pb, cc = pc;
            PackedGemm<double>.TakesFirstTask(false, 1, n, 1400, false, 2).Should().BeFalse("split along k");
            Action splitK = () => PackedGemm<double>.Multiply(false, false, 1, n, 1400, 1.0, aa, 1400, bb, n, 0.0, cc, n, false, 2, firstTask: () => { });
            splitK.Should().Throw<ArgumentException>().WithParameterName("firstTask");
            int ran = 0;
            PackedGemm<double>.TakesFirstTask(false, 1, n, 1400, false, 1).Should().BeTrue("one thread does not split k");
            PackedGemm<double>.Multiply(false, false, 1, n, 1400, 1.0, aa, 1400, bb, n, 0.0, cc, n, false, 1, firstTask: () => ran++);
            ran.Should().Be(1);
        }

        PackedGemm<double>.TakesFirstTask(true, m, 8, k, false, 2).Should().BeTrue("a transposed A with a few columns is packed");
    }

    /// <summary>A product into its own rows is refused where it cannot be computed in place (a transposed A, C elsewhere, β ≠ 0, too few columns, too deep a k), and a triangular B outside such a product.</summary>
    [Fact]
    public unsafe void ProductsInPlaceAreRefusedWhereTheyCannotBe()
    {
        var a = new double[64 * 32];
        var b = new double[32 * 32];
        var c = new double[64 * 32];
        fixed (double* pa = a, pb = b, pc = c)
        {
            double* aa = pa, bb = pb, cc = pc;
            Action transposed = () => PackedGemm<double>.Multiply(true, true, 32, 32, 32, 1.0, aa, 32, bb, 32, 0.0, aa, 32, false, 2, rowsInPlace: true);
            Action elsewhere = () => PackedGemm<double>.Multiply(false, true, 64, 32, 32, 1.0, aa, 32, bb, 32, 0.0, cc, 32, false, 2, rowsInPlace: true);
            Action accumulate = () => PackedGemm<double>.Multiply(false, true, 64, 32, 32, 1.0, aa, 32, bb, 32, 1.0, aa, 32, false, 2, rowsInPlace: true);
            Action narrow = () => PackedGemm<double>.Multiply(false, true, 64, 8, 8, 1.0, aa, 32, bb, 32, 0.0, aa, 32, false, 2, rowsInPlace: true);
            Action triangularElsewhere = () => PackedGemm<double>.Multiply(false, true, 64, 32, 32, 1.0, aa, 32, bb, 32, 0.0, cc, 32, false, 2, upperB: true);
            transposed.Should().Throw<ArgumentException>().WithParameterName("rowsInPlace");
            elsewhere.Should().Throw<ArgumentException>().WithParameterName("rowsInPlace");
            accumulate.Should().Throw<ArgumentException>().WithParameterName("rowsInPlace");
            narrow.Should().Throw<ArgumentException>().WithParameterName("rowsInPlace");
            triangularElsewhere.Should().Throw<ArgumentException>().WithParameterName("upperB");
        }

        PackedGemm<double>.CanMultiplyRowsInPlace(4096, 4096).Should().BeFalse("deeper than one packed block");
    }

    private void SolveAndCheck(MathNet.Numerics.LinearAlgebra.Matrix<double> a, MathNet.Numerics.LinearAlgebra.Matrix<double> wide, int n, int c)
    {
        using var ab = Backend.Upload<double>(a.ToRowMajorArray(), n, n);
        using var bb = Backend.Upload<double>(wide.ToRowMajorArray(), n, c + 3);
        using var b = bb.ColumnRange(1, c);
        Backend.CholeskyFactor(ab);
        Backend.CholeskySolve(ab, b);
        var result = new double[n * (c + 3)];
        Backend.Download(bb, result);
        var expected = a.Solve(wide.SubMatrix(0, n, 1, c));
        for (int i = 0; i < n; i++)
        {
            result[i * (c + 3)].Should().Be(wide[i, 0], "column 0 lies outside the range");
            result[(i * (c + 3)) + c + 1].Should().Be(wide[i, c + 1], "column c + 1 lies outside the range");
            for (int j = 0; j < c; j++)
            {
                result[(i * (c + 3)) + 1 + j].Should().BeApproximately(expected[i, j], 1e-9 * (1 + Math.Abs(expected[i, j])), $"x[{i}, {j}] with products below {BlockedCholesky<double>.SingleThreadedBelowOnThisThread?.ToString() ?? "the rule's"} multiply-adds on one thread");
            }
        }
    }

    [Fact]
    public void SimdOverrideSelectsTheFallbackMicroKernel()
    {
        // .ci/run reruns the conformance suite with FEATURELEARNING_SIMD=256 and =scalar: make sure the switch took.
        string? forced = Environment.GetEnvironmentVariable("FEATURELEARNING_SIMD");
        bool avx2 = System.Runtime.Intrinsics.X86.Fma.IsSupported && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated;
        int expected = forced switch
        {
            "scalar" => 64,
            "256" => avx2 ? 256 : 64,
            _ => PackedGemm<double>.SimdBits,
        };
        PackedGemm<double>.SimdBits.Should().Be(expected);
        PackedGemm<float>.SimdBits.Should().Be(forced == "scalar" ? 32 : (forced == "256" && avx2 ? 256 : PackedGemm<float>.SimdBits));
    }
}

/// <summary>The conformance suite on a single-threaded managed backend (the serial code path).</summary>
public sealed class SerialManagedBackendTests : BackendConformanceTests
{
    protected override IComputeBackend CreateBackend() => new ManagedBackend(1);
}

public sealed class PinnedArrayPoolTests
{
    [Fact]
    public void ReturnedArraysAreReusedForTheSameLengthAndTypeWithinTheBudget()
    {
        var pool = new PinnedArrayPool(budgetBytes: 3 * 8 * 100);
        var a = pool.Rent<double>(100);
        pool.Return(a);
        ((object)pool.Rent<float>(100)).Should().NotBeSameAs(a, "another element type");
        pool.Rent<double>(99).Should().NotBeSameAs(a, "another length");
        pool.Rent<double>(100).Should().BeSameAs(a);

        // Over budget: the oldest array is dropped.
        var b = pool.Rent<double>(100);
        var c = pool.Rent<double>(100);
        var d = pool.Rent<double>(100);
        var e = pool.Rent<double>(100);
        foreach (var x in new[] { b, c, d, e })
        {
            pool.Return(x);
        }

        var reused = new[] { pool.Rent<double>(100), pool.Rent<double>(100), pool.Rent<double>(100), pool.Rent<double>(100) };
        reused.Should().NotContain(b, "b was the oldest and fell out of the 3-array budget");
        reused.Should().Contain(new[] { c, d, e });
    }

    [Fact]
    public void ALargeArrayDroppedOverBudgetIsCollectedBeforeTheNextLargeAllocation()
    {
        // A 64 MiB array returned to a 1 MiB pool is dropped; the next 64 MiB rent runs a full collection first, so the
        // dropped array is gone before new memory is taken (an exact RFM at n = 30,000 otherwise grew by one dropped
        // factor per round until it ran out of memory).
        var pool = new PinnedArrayPool(budgetBytes: 1 << 20);
        int length = (int)(PinnedArrayPool.LargeArrayBytes / sizeof(double));
        var dropped = DropOne(pool, length);
        var next = pool.Rent<double>(length);
        dropped.IsAlive.Should().BeFalse("the pool collects dropped large arrays before allocating another");
        next.Length.Should().Be(length);

        static WeakReference DropOne(PinnedArrayPool pool, int length)
        {
            var array = pool.Rent<double>(length);
            pool.Return(array);
            return new WeakReference(array);
        }
    }

    [Fact]
    public void PooledBuffersGiveTheSameResults()
    {
        using var pooled = new ManagedBackend();
        using var plain = new ManagedBackend(bufferPoolBytes: 0);
        foreach (var backend in new[] { pooled, plain })
        {
            for (int round = 0; round < 3; round++)
            {
                using var a = backend.Upload<double>([1, 2, 3, 4], 2, 2);
                using var c = backend.Allocate<double>(2, 2);
                backend.Gemm(Transpose.None, Transpose.None, 1.0, a, a, 0.0, c);
                var host = new double[4];
                backend.Download(c, host);
                host.Should().Equal(7, 10, 15, 22);
            }
        }
    }
}
