using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// Buffer views: every operation on a view equals the same operation on a copy of the block, writes through a view land
/// in the block of the parent and nowhere else, and the error contract (strided view to a contiguous-only operation,
/// block out of range, use after the parent is disposed).
/// </summary>
public abstract partial class BackendConformanceTests
{
    // Parent 9 × 8; the strided block is rows 2..6, columns 3..6 (5 × 4); the row block is rows 2..6, all 8 columns.
    private const int ParentRows = 9, ParentCols = 8, BlockRow = 2, BlockRows = 5;

    [SkippableTheory]
    [InlineData(false, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, false, true)]
    [InlineData(true, true, true)]
    [InlineData(false, false, true)]
    public void GemmOnViewsMatchesGemmOnCopiesAndWritesOnlyTheBlock(bool ta, bool tb, bool strided)
    {
        CheckGemmOnViews<double>(ta, tb, strided);
        CheckGemmOnViews<float>(ta, tb, strided);
    }

    private void CheckGemmOnViews<T>(bool ta, bool tb, bool strided)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // C block m × n; A and B blocks taken from 9 × 8 parents at other offsets.
        var (c0, n) = strided ? (3, 4) : (0, ParentCols);
        int m = BlockRows, k = 3;
        var (a, b, c) = (Random(ParentRows, ParentCols, 31), Random(ParentRows, ParentCols, 32), Random(ParentRows, ParentCols, 33));
        using var ap = Backend.Upload<T>(Cast<T>(a), ParentRows, ParentCols);
        using var bp = Backend.Upload<T>(Cast<T>(b), ParentRows, ParentCols);
        using var cp = Backend.Upload<T>(Cast<T>(c), ParentRows, ParentCols);
        var (aRows, aCols, bRows, bCols) = (ta ? k : m, ta ? m : k, tb ? n : k, tb ? k : n);
        using var av = ap.Slice(1, aRows, 2, aCols);
        using var bv = bp.Slice(0, bRows, ParentCols - bCols, bCols);
        using var cv = cp.Slice(BlockRow, m, c0, n);
        cv.IsContiguous.Should().Be(!strided);

        Backend.Gemm(ta ? Transpose.Transpose : Transpose.None, tb ? Transpose.Transpose : Transpose.None, T.CreateTruncating(0.75), av, bv, T.CreateTruncating(-0.5), cv);

        var expected = Gemm(ta, tb, m, n, k, 0.75, Block(a, 1, aRows, 2, aCols), aCols, Block(b, 0, bRows, ParentCols - bCols, bCols), bCols, -0.5, Block(c, BlockRow, m, c0, n));
        var after = Download(Backend, cp);
        RelativeError(Block(after, BlockRow, m, c0, n), expected).Should().BeLessThan(Tolerance<T>());
        Download(Backend, cv).Should().Equal(Block(after, BlockRow, m, c0, n));
        OutsideBlock(after, BlockRow, m, c0, n).Should().Equal(OutsideBlock(ToDouble(Cast<T>(c)), BlockRow, m, c0, n));
    }

    [SkippableFact]
    public void SyrkReadsAStridedViewAndWritesARowView()
    {
        var a = Random(ParentRows, ParentCols, 34);
        var c = Random(ParentRows, 3, 35);
        using var ap = Backend.Upload<double>(a, ParentRows, ParentCols);
        using var cp = Backend.Upload<double>(c, ParentRows, 3);
        using var av = ap.Slice(BlockRow, BlockRows, 3, 3);
        using var cv = cp.RowRange(4, 3);
        Backend.Syrk(Transpose.Transpose, 1.0, av, 0.0, cv);

        var expected = Gemm(true, false, 3, 3, BlockRows, 1.0, Block(a, BlockRow, BlockRows, 3, 3), 3, Block(a, BlockRow, BlockRows, 3, 3), 3, 0.0, new double[9]);
        var after = Download(Backend, cp);
        RelativeError(Block(after, 4, 3, 0, 3), expected).Should().BeLessThan(1e-12);
        OutsideBlock(after, 4, 3, 0, 3).Should().Equal(OutsideBlock(c, 4, 3, 0, 3));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void CopyScaleAxpyUploadDownloadOnViewsWriteOnlyTheBlock(bool strided)
    {
        CheckElementwiseOnViews<double>(strided);
        CheckElementwiseOnViews<float>(strided);
    }

    private void CheckElementwiseOnViews<T>(bool strided)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (c0, n) = strided ? (3, 4) : (0, ParentCols);
        int m = BlockRows;
        var (x, y) = (ToDouble(Cast<T>(Random(ParentRows, ParentCols, 36))), ToDouble(Cast<T>(Random(ParentRows, ParentCols, 37))));
        using var xp = Backend.Upload<T>(Cast<T>(x), ParentRows, ParentCols);
        using var yp = Backend.Upload<T>(Cast<T>(y), ParentRows, ParentCols);
        using var xv = xp.Slice(BlockRow + 1, m, c0, n);
        using var yv = yp.Slice(BlockRow, m, c0, n);
        var xBlock = Block(x, BlockRow + 1, m, c0, n);
        var yBlock = Block(y, BlockRow, m, c0, n);

        // Download of a view = the block; Copy between views; Copy of a view into a buffer.
        Download(Backend, xv).Should().Equal(xBlock);
        using (var copy = Backend.Allocate<T>(m, n))
        {
            Backend.Copy(xv, copy);
            Download(Backend, copy).Should().Equal(xBlock);
        }

        Backend.Axpy(T.CreateTruncating(2), xv, yv);
        var expected = yBlock.Zip(xBlock, (p, q) => p + (2 * q)).ToArray();
        Check(expected);

        Backend.Scale(T.CreateTruncating(-3), yv);
        expected = expected.Select(v => -3 * v).ToArray();
        Check(expected);

        Backend.Copy(xv, yv);
        Check(xBlock);

        var upload = Random(m, n, 38);
        Backend.Upload<T>(Cast<T>(upload), yv);
        Check(ToDouble(Cast<T>(upload)));

        Backend.Scale(T.Zero, yv);
        Check(new double[m * n]);
        Download(Backend, xp).Should().Equal(x, "a view read is not a write");

        void Check(double[] block)
        {
            var after = Download(Backend, yp);
            RelativeError(Block(after, BlockRow, m, c0, n), block).Should().BeLessThan(Tolerance<T>());
            OutsideBlock(after, BlockRow, m, c0, n).Should().Equal(OutsideBlock(y, BlockRow, m, c0, n));
        }
    }

    [SkippableFact]
    public void ScaleRowsAndScaleColumnsTakeAStridedColumnViewAsTheVector()
    {
        CheckScaleByStridedVector<double>();
        CheckScaleByStridedVector<float>();
    }

    private void CheckScaleByStridedVector<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // v: rows 2..6 of column 5 of a 9 × 8 parent (5 × 1, leading dimension 8); A scaled by its rows (5 × 3) and by its
        // columns (4 × 5); the result equals the same operation with a contiguous copy of v, and the parent is untouched.
        var parent = Random(ParentRows, ParentCols, 44);
        using var p = Backend.Upload<T>(Cast<T>(parent), ParentRows, ParentCols);
        using var v = p.Slice(BlockRow, BlockRows, 5, 1);
        v.IsContiguous.Should().BeFalse();
        v.LeadingDimension.Should().Be(ParentCols);
        using var vc = Backend.Allocate<T>(BlockRows, 1);
        Backend.Copy(v, vc);

        foreach (bool byRow in new[] { true, false })
        {
            var (rows, cols) = byRow ? (BlockRows, 3) : (4, BlockRows);
            var a = Cast<T>(Random(rows, cols, byRow ? 45 : 46));
            using var a1 = Backend.Upload<T>(a, rows, cols);
            using var a2 = Backend.Upload<T>(a, rows, cols);
            if (byRow)
            {
                Backend.ScaleRows(a1, v);
                Backend.ScaleRows(a2, vc);
            }
            else
            {
                Backend.ScaleColumns(a1, v);
                Backend.ScaleColumns(a2, vc);
            }

            var (got, expected) = (Download(Backend, a1), Download(Backend, a2));
            got.Should().Equal(expected);
            var direct = ToDouble(a).Select((x, e) => x * ToDouble(Cast<T>(parent))[((BlockRow + (byRow ? e / cols : e % cols)) * ParentCols) + 5]).ToArray();
            RelativeError(got, direct).Should().BeLessThan(Tolerance<T>());
        }

        Download(Backend, p).Should().Equal(ToDouble(Cast<T>(parent)));
    }

    [SkippableFact]
    public void ContiguousOnlyOperationsTakeRowViews()
    {
        const int d = 5;
        var a = Random(ParentRows, d, 39);
        var b = Random(ParentRows, d, 40);
        using var ap = Backend.Upload<double>(a, ParentRows, d);
        using var bp = Backend.Upload<double>(b, ParentRows, d);
        using var av = ap.RowRange(BlockRow, BlockRows);
        using var bv = bp.RowRange(BlockRow + 1, BlockRows);
        using var ac = Backend.Upload<double>(Block(a, BlockRow, BlockRows, 0, d), BlockRows, d);
        using var bc = Backend.Upload<double>(Block(b, BlockRow + 1, BlockRows, 0, d), BlockRows, d);
        using var r1 = Backend.Allocate<double>(BlockRows, 1);
        using var r2 = Backend.Allocate<double>(BlockRows, 1);

        Backend.RowDot(av, bv, r1);
        Backend.RowDot(ac, bc, r2);
        Download(Backend, r1).Should().Equal(Download(Backend, r2));
        Backend.Dot(av, bv).Should().Be(Backend.Dot(ac, bc));

        using var k1 = Backend.Allocate<double>(BlockRows, BlockRows);
        using var k2 = Backend.Allocate<double>(BlockRows, BlockRows);
        Backend.KernelMatrix(new LaplaceKernel(2.0), av, bv, null, k1);
        Backend.KernelMatrix(new LaplaceKernel(2.0), ac, bc, null, k2);
        RelativeError(Download(Backend, k1), Download(Backend, k2)).Should().BeLessThan(1e-12);

        // A write through a row view lands in those rows only.
        Backend.Hadamard(av, bv, av);
        var after = Download(Backend, ap);
        var product = Block(a, BlockRow, BlockRows, 0, d).Zip(Block(b, BlockRow + 1, BlockRows, 0, d), (x, y) => x * y).ToArray();
        RelativeError(Block(after, BlockRow, BlockRows, 0, d), product).Should().BeLessThan(1e-15);
        OutsideBlock(after, BlockRow, BlockRows, 0, d).Should().Equal(OutsideBlock(a, BlockRow, BlockRows, 0, d));
    }

    [SkippableFact]
    public void StridedViewsAreRejectedByContiguousOnlyOperationsNamingTheArgument()
    {
        using var p = Backend.Upload<double>(Random(ParentRows, ParentCols, 41), ParentRows, ParentCols);
        using var q = Backend.Upload<double>(Random(ParentRows, ParentCols, 42), ParentRows, ParentCols);
        using var v = p.Slice(0, 4, 1, 4);
        using var full = q.Slice(0, 4, 0, 4);
        using var r = Backend.Allocate<double>(4, 1);
        using var s = Backend.Allocate<double>(4, 4);

        v.IsContiguous.Should().BeFalse();
        v.LeadingDimension.Should().Be(ParentCols);
        FluentActions.Invoking(() => Backend.Hadamard(v, s, s)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("a");
        FluentActions.Invoking(() => Backend.Hadamard(s, s, v)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("c");
        FluentActions.Invoking(() => Backend.RowDot(s, v, r)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("b");
        FluentActions.Invoking(() => Backend.ScaleRows(v, r)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("a");
        FluentActions.Invoking(() => Backend.CholeskyFactor(v)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("a");
        FluentActions.Invoking(() => Backend.KernelMatrix(new LaplaceKernel(1.0), v, s, null, s)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("x");
        FluentActions.Invoking(() => Backend.Syrk(Transpose.None, 1.0, s, 0.0, v)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("c");
        FluentActions.Invoking(() => Backend.Copy(v, r)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
    }

    [SkippableFact]
    public void ViewsCheckTheirRangeComposeAndDieWithTheirParent()
    {
        var data = Random(ParentRows, ParentCols, 43);
        var p = Backend.Upload<double>(data, ParentRows, ParentCols);
        FluentActions.Invoking(() => p.Slice(0, ParentRows + 1, 0, 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => p.Slice(0, 1, 5, 4)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => p.RowRange(-1, 2)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => p.ColumnRange(ParentCols, 1)).Should().Throw<ArgumentOutOfRangeException>();

        // A view of a view: offsets add up, the parent is the owner.
        var outer = p.Slice(1, 6, 2, 5);
        var inner = outer.Slice(2, 3, 1, 2);
        inner.Parent.Should().BeSameAs(p);
        inner.Offset.Should().Be((3 * ParentCols) + 3);
        Download(Backend, inner).Should().Equal(Block(data, 3, 3, 3, 2));

        // Disposing a view releases nothing; disposing the parent disposes every view.
        outer.Dispose();
        outer.IsDisposed.Should().BeTrue();
        inner.IsDisposed.Should().BeFalse();
        Download(Backend, p).Should().Equal(data);
        p.Dispose();
        inner.IsDisposed.Should().BeTrue();
        FluentActions.Invoking(() => Download(Backend, inner)).Should().Throw<ObjectDisposedException>();
        using var other = Backend.Allocate<double>(3, 2);
        FluentActions.Invoking(() => Backend.Copy(other, inner)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => p.RowRange(0, 1)).Should().Throw<ObjectDisposedException>();
    }

    // Every parent in these tests has ParentRows rows, so its width is its length over that.
    private static double[] Block(double[] a, int r0, int rows, int c0, int cols) =>
        Enumerable.Range(0, rows).SelectMany(i => Enumerable.Range(0, cols).Select(j => a[((r0 + i) * (a.Length / ParentRows)) + c0 + j])).ToArray();

    private static double[] OutsideBlock(double[] a, int r0, int rows, int c0, int cols)
    {
        int ld = a.Length / ParentRows;
        return a.Where((_, e) => e / ld < r0 || e / ld >= r0 + rows || e % ld < c0 || e % ld >= c0 + cols).ToArray();
    }
}
