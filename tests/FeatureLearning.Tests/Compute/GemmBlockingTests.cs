using FeatureLearning.Compute;
using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Tests.Compute;

public class GemmBlockingTests
{
    [Fact]
    public void TheRuleMakesOneMicroPanelOfAHalfOfL1()
    {
        // Zen 4: 32 KiB L1d. An 8-row micro-panel of A takes half of it at KC = 16384 / (8 · 8) = 256 doubles or 512 floats.
        GemmBlocking.FromCaches(32 * 1024, 8, 8, 24).Should().Be(new GemmBlocking(256, 8, 3072));
        GemmBlocking.FromCaches(32 * 1024, 4, 8, 48).Should().Be(new GemmBlocking(512, 8, 3072));
    }

    [Fact]
    public void ALargerL1GivesADeeperBlockUpToTheCap()
    {
        // 48 KiB L1d (Zen 5): 24576 / 64 = 384 doubles; floats would be 768, capped at 512. AVX2's 4-row tile: 768, capped.
        GemmBlocking.FromCaches(48 * 1024, 8, 8, 24).Should().Be(new GemmBlocking(384, 8, 3072));
        GemmBlocking.FromCaches(48 * 1024, 4, 8, 48).Kc.Should().Be(512);
        GemmBlocking.FromCaches(48 * 1024, 8, 4, 12).Should().Be(new GemmBlocking(512, 4, 1536));
        GemmBlocking.FromCaches(4 * 1024, 8, 8, 24).Kc.Should().Be(64, "a tiny L1 still gets the smallest depth, not zero");

        // Intel: four micro-panels per A block, KC at most 384.
        GemmBlocking.FromCaches(48 * 1024, 8, 8, 24, intel: true).Should().Be(new GemmBlocking(384, 32, 3072));
        GemmBlocking.FromCaches(48 * 1024, 4, 8, 48, intel: true).Should().Be(new GemmBlocking(384, 32, 3072));
        GemmBlocking.FromCaches(32 * 1024, 8, 8, 24, intel: true).Should().Be(new GemmBlocking(256, 32, 3072));
    }

    [Theory]
    [InlineData(8 * 24, 3)] // AVX-512 (8 × 24 doubles or 8 × 48 floats): 192 bytes a k step, three shares
    [InlineData(8 * 12, 2)] // AVX2 (4 × 12 doubles or 4 × 24 floats): 96 bytes a k step, one and a half shares
    public void ThePrefetchSharesCoverTheNextPanelAndStayInsideIt(int bytesPerStep, int sharesNeeded)
    {
        // Each A micro-panel of a block prefetches kc cache lines of the next B micro-panel (kc · bytesPerStep bytes): as
        // many micro-panels as needed cover it, none reads outside it, and the rest prefetch nothing of it.
        foreach (int kc in new[] { 1, 7, 96, 384, 512 })
        {
            long share = (long)kc * PackedGemm<double>.CacheLine, panel = (long)kc * bytesPerStep;
            var covered = new bool[panel];
            for (int j = 0; j < 6; j++)
            {
                long offset = PackedGemm<double>.PrefetchShare(j, share, panel);
                if (j >= sharesNeeded)
                {
                    offset.Should().Be(-1, $"micro-panel {j} at kc = {kc} has nothing left to fetch");
                    continue;
                }

                offset.Should().BeGreaterThanOrEqualTo(0);
                (offset + share).Should().BeLessThanOrEqualTo(panel, $"micro-panel {j} at kc = {kc} stays inside the next panel");
                for (long b = offset; b < offset + share; b++)
                {
                    covered[b] = true;
                }
            }

            covered.Should().AllSatisfy(c => c.Should().BeTrue(), $"kc = {kc}: the shares cover the whole next panel");
        }
    }

    [Theory]
    [InlineData(16, 8, 48)]
    [InlineData(24, 24, 96)]
    [InlineData(40, 16, 24)]
    [InlineData(512, 8, 3072)]
    [InlineData(168, 72, 3072)]
    public void EveryBlockingGivesTheSameProduct(int kc, int mc, int nc)
    {
        // Shapes that cross KC, MC and NC several times and end in partial tiles, in both precisions and every transpose,
        // against a direct triple loop (the conformance suite only meets this machine's own blocking).
        Check<double>(new GemmBlocking(kc, mc, nc), 1e-12);
        Check<float>(new GemmBlocking(kc, mc, nc), 1e-4);
    }

    [Fact]
    public void AShallowProductTakesWiderColumnBlocksOfTheSameSize()
    {
        // Depth k < KC: NC · KC / k columns rounded up to the tile, so the packed B block keeps its KC · NC elements; from KC on, NC.
        var blocking = new GemmBlocking(512, 8, 3072);
        int nr = PackedGemm<float>.NR;
        foreach (int k in new[] { 1, 45, 96, 511 })
        {
            int columns = PackedGemm<float>.ColumnBlock(blocking, k);
            long exact = 3072L * 512 / k;
            columns.Should().BeGreaterThanOrEqualTo((int)Math.Min(exact, 1 << 24)).And.BeLessThan((int)Math.Min(exact, 1 << 24) + nr, $"k = {k}");
            (columns % nr).Should().Be(0);
        }

        int whole = (3072 + nr - 1) / nr * nr;
        PackedGemm<float>.ColumnBlock(blocking, 512).Should().Be(whole);
        PackedGemm<float>.ColumnBlock(blocking, 4000).Should().Be(whole);

        // The Cholesky factor's trailing update at n = 10,000 (depth 96) is one block, so its look-ahead applies from the start.
        PackedGemm<float>.BlockingOnThisThread = blocking;
        try
        {
            PackedGemm<float>.CanSkipLeadingRows(9904, 9904, 96, 96, true, 1f, 2).Should().BeTrue();
            PackedGemm<float>.CanSkipLeadingRows(9904, 9904, 600, 96, true, 1f, 2).Should().BeFalse("a product deeper than KC is not one block");
        }
        finally
        {
            PackedGemm<float>.BlockingOnThisThread = null;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AnUpdateReportsEachWrittenRowBlockOnceAndWhole(int threads)
    {
        ReportsRowBlocks<double>(threads);
        ReportsRowBlocks<float>(threads);
    }

    /// <summary>
    /// A lower-triangle update C −= A·Aᵀ that leaves its first row blocks to a first task reports every row block below them
    /// exactly once (together they are the rows from the skipped ones to m), each once it is final: the rows copied inside the
    /// report equal the finished product's bit for bit. Where the row blocks are fewer than four per thread, or no rows are
    /// skipped, a report is refused, naming the argument.
    /// </summary>
    private static unsafe void ReportsRowBlocks<T>(int threads)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int mr = PackedGemm<T>.MR;
        var blocking = new GemmBlocking(64, 2 * mr, 3072);
        PackedGemm<T>.BlockingOnThisThread = blocking;
        try
        {
            int block = 2 * mr, skip = 2 * block, m = (20 * block) + 3, k = 24;
            var rng = new Random(31 + threads);
            var a = Enumerable.Range(0, m * k).Select(_ => T.CreateTruncating(rng.NextDouble() - 0.5)).ToArray();
            var c0 = Enumerable.Range(0, m * m).Select(_ => T.CreateTruncating(rng.NextDouble())).ToArray();
            var c = (T[])c0.Clone();
            var seen = new System.Collections.Concurrent.ConcurrentDictionary<int, T[]>();
            int reports = 0, done = 0, reportsWhenDone = -1;
            fixed (T* pa = a, pc = c)
            {
                T* ca = pa, cc = pc;
                PackedGemm<T>.ReportsRowBlocks(m, skip, threads).Should().BeTrue();
                PackedGemm<T>.Multiply(false, true, m, m, k, -T.One, ca, k, ca, k, T.One, cc, m, true, threads, firstTask: () => { }, skipLeadingRows: skip,
                    afterRowBlock: (row, rows, scratch) =>
                    {
                        Interlocked.Increment(ref reports);
                        seen.TryAdd(row, new ReadOnlySpan<T>(cc + ((long)row * m), rows * m).ToArray()).Should().BeTrue($"row block {row} is reported once");
                    },
                    afterItems: scratch =>
                    {
                        // Once per worker, after its items: with one worker, after every report.
                        Interlocked.Increment(ref done);
                        Interlocked.CompareExchange(ref reportsWhenDone, Volatile.Read(ref reports), -1);
                    });
                done.Should().BeInRange(1, Math.Max(1, threads));
                if (threads == 1)
                {
                    reportsWhenDone.Should().Be(reports);
                }

                Action itemsAlone = () => PackedGemm<T>.Multiply(false, true, m, m, k, -T.One, ca, k, ca, k, T.One, cc, m, true, threads, firstTask: () => { }, skipLeadingRows: skip, afterItems: _ => { });
                itemsAlone.Should().Throw<ArgumentException>().WithParameterName("afterItems");

                // Refused: no rows skipped; too few row blocks for the threads.
                Action unskipped = () => PackedGemm<T>.Multiply(false, true, m, m, k, -T.One, ca, k, ca, k, T.One, cc, m, true, threads, afterRowBlock: (_, _, _) => { });
                unskipped.Should().Throw<ArgumentException>().WithParameterName("afterRowBlock");
                int few = ((4 * Math.Max(2, threads)) - 1) * block;
                PackedGemm<T>.ReportsRowBlocks(few, skip, Math.Max(2, threads)).Should().BeFalse();
                Action tooFew = () => PackedGemm<T>.Multiply(false, true, few, few, k, -T.One, ca, k, ca, k, T.One, cc, m, true, Math.Max(2, threads), firstTask: () => { }, skipLeadingRows: skip, afterRowBlock: (_, _, _) => { });
                tooFew.Should().Throw<ArgumentException>().WithParameterName("afterRowBlock");
            }

            seen.Keys.Order().Should().Equal(Enumerable.Range(0, (m - skip + block - 1) / block).Select(i => skip + (i * block)), "every row block below the skipped rows");
            reports.Should().Be(seen.Count);
            foreach (var (row, rows) in seen)
            {
                rows.Should().Equal(c.AsSpan(row * m, rows.Length).ToArray(), $"row block {row} was final when reported");
            }

            // The reported rows hold the product; the skipped rows are untouched.
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double expected = i < skip ? double.CreateTruncating(c0[(i * m) + j]) : double.CreateTruncating(c0[(i * m) + j]) - Enumerable.Range(0, k).Sum(p => double.CreateTruncating(a[(i * k) + p]) * double.CreateTruncating(a[(j * k) + p]));
                    double.CreateTruncating(c[(i * m) + j]).Should().BeApproximately(expected, typeof(T) == typeof(float) ? 1e-4 : 1e-12, $"C[{i}, {j}]");
                }
            }
        }
        finally
        {
            PackedGemm<T>.BlockingOnThisThread = null;
        }
    }

    [Fact]
    public void RowsMultipliedInPlaceByAPackedBlockMatchTheInPlaceProduct()
    {
        RowsInPlace<double>();
        RowsInPlace<float>();
    }

    /// <summary>
    /// <see cref="PackedGemm{T}.MultiplyRowsInPlace"/> on a row block (a partial last register tile included) with B packed by
    /// <see cref="PackedGemm{T}.PackTransposedB"/> gives the bits of <see cref="PackedGemm{T}.Multiply"/> with rowsInPlace on the
    /// same rows, with a triangular B (upperB) and a full one, for a depth of whole panels and one with a partial panel, under every micro-kernel.
    /// </summary>
    private static unsafe void RowsInPlace<T>()
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int nr = PackedGemm<T>.NR, mr = PackedGemm<T>.MR;
        var rng = new Random(37);
        // Wider than the few-columns path (which does not compute in place) under every micro-kernel's NR.
        int whole = ((PackedGemm<T>.FewColumns / nr) + 1) * nr;
        foreach (int n in new[] { whole, whole + 3 })
        {
            foreach (bool upper in new[] { true, false })
            {
                int rows = (2 * mr) + 3, ld = n + 7;
                var b = Enumerable.Range(0, n * n).Select(i => upper && i % n > i / n ? T.Zero : T.CreateTruncating(rng.NextDouble() - 0.5)).ToArray();
                var source = Enumerable.Range(0, rows * ld).Select(_ => T.CreateTruncating(rng.NextDouble() - 0.5)).ToArray();
                var viaProduct = (T[])source.Clone();
                var viaRows = (T[])source.Clone();
                var packed = new T[PackedGemm<T>.PackedBElements(n, n)];
                var scratch = new T[(rows + mr) * n];
                fixed (T* pb = b, p1 = viaProduct, p2 = viaRows, pk = packed, ps = scratch)
                {
                    // op(B) = Bᵀ, upper triangular where B is lower.
                    PackedGemm<T>.Multiply(false, true, rows, n, n, T.One, p1, ld, pb, n, T.Zero, p1, ld, false, 1, rowsInPlace: true, upperB: upper);
                    PackedGemm<T>.PackTransposedB(pb, n, n, n, pk);
                    PackedGemm<T>.MultiplyRowsInPlace(p2, rows, ld, n, pk, upper, ps);
                }

                viaRows.Should().Equal(viaProduct, $"n = {n}, upperB {upper}");
                viaRows.Should().NotEqual(source);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AnUntransposedBInsideAWiderArrayIsPackedLikeItsTranspose(int threads)
    {
        // An untransposed B is packed row by row, a transposed one panel by panel through 8 × 8 transposes: both must give the
        // same packed panels, so the same bits. B here is a block of a wider array (leading dimension n + 5, two columns and a
        // row in) surrounded by NaN, so that a read outside the block shows; NC = four panels, so that the rows are packed by
        // several threads and the columns cross more than one block, and KC small, so that the depth does too.
        PacksLikeTheTranspose<double>(threads);
        PacksLikeTheTranspose<float>(threads);
    }

    private static unsafe void PacksLikeTheTranspose<T>(int threads)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int nr = PackedGemm<T>.NR;
        var rng = new Random(23 + threads);
        foreach (int kc in new[] { 1, 3, 13, 64 })
        {
            foreach (var (m, n, k) in new[] { (37, 5 * nr, (3 * kc) + 1), (21, (4 * nr) + 5, 70), (9, Math.Max(FewColumnsPlusOne, nr - 3), 2 * kc) })
            {
                int ldb = n + 5;
                var store = Enumerable.Repeat(T.NaN, (k + 2) * ldb).ToArray();
                var transposed = new T[n * k];
                for (int p = 0; p < k; p++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        T v = T.CreateTruncating(rng.NextDouble() - 0.5);
                        store[((p + 1) * ldb) + j + 2] = v;
                        transposed[(j * k) + p] = v;
                    }
                }

                var a = Enumerable.Range(0, m * k).Select(_ => T.CreateTruncating(rng.NextDouble() - 0.5)).ToArray();
                var fromRows = new T[m * n];
                var fromTranspose = new T[m * n];
                PackedGemm<T>.BlockingOnThisThread = new GemmBlocking(kc, PackedGemm<T>.MR, 4 * nr);
                try
                {
                    fixed (T* pa = a, pb = store, pt = transposed, c1 = fromRows, c2 = fromTranspose)
                    {
                        PackedGemm<T>.Multiply(false, false, m, n, k, T.One, pa, k, pb + ldb + 2, ldb, T.Zero, c1, n, false, threads);
                        PackedGemm<T>.Multiply(false, true, m, n, k, T.One, pa, k, pt, k, T.Zero, c2, n, false, threads);
                    }
                }
                finally
                {
                    PackedGemm<T>.BlockingOnThisThread = null;
                }

                fromRows.Count(T.IsNaN).Should().Be(0, $"{typeof(T).Name} {m}x{n}x{k}, KC {kc}, {threads} threads: B is read inside its block only");
                fromRows.Should().Equal(fromTranspose, $"{typeof(T).Name} {m}x{n}x{k}, KC {kc}, {threads} threads");
            }
        }
    }

    private const int FewColumnsPlusOne = PackedGemm<double>.FewColumns + 1;

    private static void Check<T>(GemmBlocking blocking, double tolerance)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var forced = new GemmBlocking(blocking.Kc, (blocking.Mc + PackedGemm<T>.MR - 1) / PackedGemm<T>.MR * PackedGemm<T>.MR, (blocking.Nc + PackedGemm<T>.NR - 1) / PackedGemm<T>.NR * PackedGemm<T>.NR);
        using var be = new ManagedBackend(2);
        var rng = new Random(11);
        foreach (var (m, n, k) in new[] { (101, 75, 130), (9, 203, 57), (260, 270, 45) })
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    var a = Enumerable.Range(0, m * k).Select(_ => rng.NextDouble() - 0.5).ToArray();
                    var b = Enumerable.Range(0, k * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
                    var c0 = Enumerable.Range(0, m * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
                    var expected = TestMatrices.Gemm(ta, tb, m, n, k, 1.5, a, ta ? m : k, b, tb ? k : n, 0.5, c0);

                    using var ab = be.Upload<T>(a.Select(T.CreateTruncating).ToArray(), ta ? k : m, ta ? m : k);
                    using var bb = be.Upload<T>(b.Select(T.CreateTruncating).ToArray(), tb ? n : k, tb ? k : n);
                    using var cb = be.Upload<T>(c0.Select(T.CreateTruncating).ToArray(), m, n);
                    PackedGemm<T>.BlockingOnThisThread = forced;
                    try
                    {
                        be.Gemm(ta ? Transpose.Transpose : Transpose.None, tb ? Transpose.Transpose : Transpose.None, T.CreateTruncating(1.5), ab, bb, T.CreateTruncating(0.5), cb);
                    }
                    finally
                    {
                        PackedGemm<T>.BlockingOnThisThread = null;
                    }

                    var actual = new T[m * n];
                    be.Download(cb, actual);
                    double worst = expected.Select((e, i) => Math.Abs(double.CreateTruncating(actual[i]) - e)).Max();
                    worst.Should().BeLessThan(tolerance * Math.Sqrt(k), $"{typeof(T).Name} {m}x{n}x{k} transA {ta} transB {tb} under {forced}");
                }
            }
        }
    }

    [SkippableFact]
    public void TheVendorMatchesTheOperatingSystemsReport()
    {
        // CPUID's vendor string, read by the blocking rule, against Linux's /proc/cpuinfo.
        Skip.IfNot(File.Exists("/proc/cpuinfo") && System.Runtime.Intrinsics.X86.X86Base.IsSupported, "needs Linux on x86");
        Skip.If(Environment.GetEnvironmentVariable(GemmBlocking.Variable) is not null, "the blocking is overridden");
        var vendor = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("vendor_id", StringComparison.Ordinal)).Split(':')[1].Trim();
        GemmBlocking.IsIntel.Should().Be(vendor == "GenuineIntel", $"/proc/cpuinfo says {vendor}");
        PackedGemm<double>.Blocking.Mc.Should().Be(GemmBlocking.IsIntel ? 4 * PackedGemm<double>.MR : PackedGemm<double>.MR);
    }

    [Theory]
    [InlineData("32K", 32 * 1024)]
    [InlineData("1024K", 1024 * 1024)]
    [InlineData("32M", 32 * 1024 * 1024)]
    [InlineData("512", 512)]
    [InlineData("abc", 0)]
    [InlineData("4096M", 0)]
    [InlineData("99999999999K", 0)]
    public void ParsesSysfsSizes(string text, int bytes) => GemmBlocking.ParseSize(text).Should().Be(bytes);

    [Fact]
    public void TheOverrideRoundsToTheTileAndRefusesNonsense()
    {
        GemmBlocking.Parse("200, 100, 3000", 8, 24).Should().Be(new GemmBlocking(200, 104, 3000));
        GemmBlocking.Parse(null, 8, 24).Should().BeNull();
        GemmBlocking.Parse(" ", 8, 24).Should().BeNull();
        var bad = () => GemmBlocking.Parse("256,96", 8, 24);
        bad.Should().Throw<InvalidOperationException>().WithMessage("*FEATURELEARNING_GEMM_BLOCKING*KC,MC,NC*");
        var negative = () => GemmBlocking.Parse("256,-1,3072", 8, 24);
        negative.Should().Throw<InvalidOperationException>();
        var huge = () => GemmBlocking.Parse("16384,8,24", 8, 24);
        huge.Should().Throw<InvalidOperationException>("a block of 16384² elements is refused, not allocated");
    }
}
