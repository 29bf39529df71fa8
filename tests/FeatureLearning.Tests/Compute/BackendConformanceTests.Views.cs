using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// Buffer views: every operation on a view (strided or a row range, for every buffer argument) equals the same operation
/// on a copy of the block, writes through a view land in the block of the parent and nowhere else, and the error contract
/// (block out of range, use after the parent is disposed).
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

    /// <summary>
    /// Copy, Convert, Scale, Axpy and Dot on buffers long enough to be split into pieces (the CPU backends share pieces of
    /// about 2¹⁶ elements between their threads): a contiguous 3 × 50,001 buffer, a strided 3 × 140,000 view whose rows are
    /// split, and a strided 3,000 × 50 view whose rows are grouped, against the same operations on the host; nothing
    /// outside the view is written.
    /// </summary>
    [SkippableTheory]
    [InlineData(3, 50_001, 50_001, 0)]
    [InlineData(3, 140_000, 140_003, 2)]
    [InlineData(3_000, 50, 53, 2)]
    public void ElementwiseOperationsOnLongBuffersEqualTheHostLoop(int rows, int cols, int parentCols, int c0)
    {
        var (x, y) = (Random(rows, parentCols, 41), Random(rows, parentCols, 42));
        using var xp = Backend.Upload<double>(x, rows, parentCols);
        using var yp = Backend.Upload<double>(y, rows, parentCols);
        using var xv = xp.Slice(0, rows, c0, cols);
        using var yv = yp.Slice(0, rows, c0, cols);
        var (xBlock, yBlock) = (Columns(x), Columns(y));

        Backend.Dot(xv, yv).Should().BeApproximately(xBlock.Zip(yBlock, (p, q) => p * q).Sum(), 1e-9 * xBlock.Length);
        Backend.Axpy(-0.5, xv, yv);
        var expected = yBlock.Zip(xBlock, (p, q) => p - (0.5 * q)).ToArray();
        Check(expected, 1e-15);
        Backend.Scale(3.0, yv);
        expected = expected.Select(v => 3 * v).ToArray();
        Check(expected, 1e-15);
        using (var single = Backend.Allocate<float>(rows, cols))
        {
            Backend.Convert(xv, single);
            Download(Backend, single).Should().Equal(xBlock.Select(v => (double)(float)v));
            Backend.Convert(single, yv);
            Check(xBlock.Select(v => (double)(float)v).ToArray(), 0);
        }

        Backend.Copy(xv, yv);
        Check(xBlock, 0);
        Backend.Scale(0.0, yv);
        Check(new double[rows * cols], 0);

        double[] Columns(double[] a) => Enumerable.Range(0, rows).SelectMany(i => a.Skip((i * parentCols) + c0).Take(cols)).ToArray();

        void Check(double[] block, double tolerance)
        {
            var after = Download(Backend, yp);
            RelativeError(Columns(after), block).Should().BeLessThanOrEqualTo(tolerance);
            OutsideBlock(after, parentCols, 0, rows, c0, cols).Should().Equal(OutsideBlock(y, parentCols, 0, rows, c0, cols));
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
    public void RowViewsWorkEverywhere()
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

    /// <summary>What every element of a parent outside its view holds; an operation on the view must leave it untouched.</summary>
    private const double Sentinel = 12345;

    /// <summary>Every operation of <see cref="IComputeBackend"/> that takes a buffer (with variants for transposes and the kernel matrix's forms).</summary>
    public static TheoryData<string> ViewOperations() =>
    [
        "Upload", "Download", "Gemm", "GemmTransposed", "Syrk", "SyrkTransposed", "CholeskyFactor", "CholeskySolve", "SymmetricEigen",
        "KernelMatrix", "KernelMatrixDiagonalMetric", "KernelMatrixSymmetric", "KernelMatrixHostProfile", "KernelMatrixNormDependent", "ApplyActivation", "ApplyActivationInPlace", "Copy", "Scale", "Axpy", "AddDiagonal",
        "Hadamard", "ScaleColumns", "ScaleRows", "RowKronecker", "GatherColumns", "BlockSum", "RowDot", "Dot",
    ];

    /// <summary>
    /// The criterion: for every operation and every buffer argument, the operation with that argument a strided view
    /// (a block inside a larger buffer whose other elements hold <see cref="Sentinel"/>) equals the operation on contiguous
    /// copies, every argument ends equal, and the sentinel elements are untouched; then the same with every argument a view.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(ViewOperations))]
    public void EveryOperationOnStridedViewsEqualsItOnContiguousCopiesAndKeepsTheRestOfTheParent(string operation)
    {
        CheckOperationOnViews<double>(operation);
        CheckOperationOnViews<float>(operation);
    }

    private void CheckOperationOnViews<T>(string operation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (args, op) = ViewCase<T>(operation);

        // Reference: every argument a contiguous buffer of its own.
        var reference = args.Select(g => Backend.Upload<T>(Cast<T>(g.Data), g.Rows, g.Cols)).ToArray();
        double expectedValue;
        double[][] expected;
        try
        {
            expectedValue = op(reference);
            expected = reference.Select(b => Download(Backend, b)).ToArray();
        }
        finally
        {
            Array.ForEach(reference, b => b.Dispose());
        }

        // One argument a strided view at a time, then all of them at once.
        var masks = Enumerable.Range(0, args.Length).Select(k => (Func<int, bool>)(q => q == k)).Append(_ => true);
        int run = 0;
        foreach (var strided in masks)
        {
            string because = $"{operation} ({typeof(T).Name}), run {run++} (argument {run - 1} strided, or all in the last run)";
            var parents = new DeviceBuffer<T>?[args.Length];
            var buffers = new DeviceBuffer<T>[args.Length];
            try
            {
                for (int q = 0; q < args.Length; q++)
                {
                    var g = args[q];
                    if (strided(q))
                    {
                        parents[q] = Backend.Upload<T>(Cast<T>(Embed(g)), g.Rows + 3, g.Cols + 4);
                        buffers[q] = parents[q]!.Slice(2, g.Rows, 3, g.Cols);
                        buffers[q].IsContiguous.Should().Be(g.Rows <= 1 || g.Cols == 0, because);
                    }
                    else
                    {
                        buffers[q] = Backend.Upload<T>(Cast<T>(g.Data), g.Rows, g.Cols);
                    }
                }

                double value = op(buffers);
                RelativeError([value], [expectedValue]).Should().BeLessThan(Tolerance<T>(), because);
                for (int q = 0; q < args.Length; q++)
                {
                    RelativeError(Download(Backend, buffers[q]), expected[q]).Should().BeLessThan(Tolerance<T>(), $"argument {q}: {because}");
                    if (parents[q] is { } parent)
                    {
                        var g = args[q];
                        OutsideBlock(Download(Backend, parent), g.Cols + 4, 2, g.Rows, 3, g.Cols).Should().OnlyContain(v => v == Sentinel, $"argument {q}'s parent outside the view: {because}");
                    }
                }
            }
            finally
            {
                for (int q = 0; q < args.Length; q++)
                {
                    buffers[q]?.Dispose();
                    parents[q]?.Dispose();
                }
            }
        }
    }

    /// <summary>A (rows + 3) × (cols + 4) parent full of the sentinel with the argument's data at rows 2.., columns 3...</summary>
    private static double[] Embed(ViewArgument g)
    {
        int ld = g.Cols + 4;
        var host = Enumerable.Repeat(Sentinel, (g.Rows + 3) * ld).ToArray();
        for (int i = 0; i < g.Rows; i++)
        {
            Array.Copy(g.Data, i * g.Cols, host, ((2 + i) * ld) + 3, g.Cols);
        }

        return host;
    }

    /// <summary>The arguments of one operation and the call (returning its value, 0 for the operations that return none).</summary>
    private (ViewArgument[] Args, Func<DeviceBuffer<T>[], double> Op) ViewCase<T>(string operation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 6, d = 3, m = 5;
        var be = Backend;
        ViewArgument R(int rows, int cols, int seed) => new(rows, cols, Random(rows, cols, seed));
        ViewArgument Symmetric(int size, int seed) => new(size, size, Spd(size, seed, 1.0));
        T S(double v) => T.CreateTruncating(v);
        switch (operation)
        {
            case "Upload":
                return ([R(n, d, 50)], b =>
                {
                    be.Upload<T>(Cast<T>(Random(n, d, 51)), b[0]);
                    return 0;
                });
            case "Download":
                return ([R(n, d, 52)], b => Download(be, b[0]).Select((v, i) => v * (i + 1)).Sum());
            case "Gemm":
                return ([R(n, d, 53), R(d, m, 54), R(n, m, 55)], b =>
                {
                    be.Gemm(Transpose.None, Transpose.None, S(0.75), b[0], b[1], S(-0.5), b[2]);
                    return 0;
                });
            case "GemmTransposed":
                return ([R(d, n, 56), R(m, d, 57), R(n, m, 58)], b =>
                {
                    be.Gemm(Transpose.Transpose, Transpose.Transpose, S(1.25), b[0], b[1], S(0.5), b[2]);
                    return 0;
                });
            case "Syrk":
                return ([R(n, d, 59), Symmetric(n, 60)], b =>
                {
                    be.Syrk(Transpose.None, S(0.5), b[0], S(0.25), b[1]);
                    return 0;
                });
            case "SyrkTransposed":
                return ([R(n, d, 61), R(d, d, 62)], b =>
                {
                    be.Syrk(Transpose.Transpose, S(1.0), b[0], S(0.0), b[1]);
                    return 0;
                });
            case "CholeskyFactor":
                // The second matrix (all ones: singular) fails its first attempt, so the jitter retry restores the view from
                // its upper triangle before it succeeds.
                return ([new(n, n, Spd(n, 63, 0.5)), new(n, n, Enumerable.Repeat(1.0, n * n).ToArray())], b =>
                {
                    be.CholeskyFactor(b[0]);
                    var report = be.CholeskyFactor(b[1]);
                    report.Attempts.Should().BeGreaterThan(1);
                    return report.Attempts;
                });
            case "CholeskySolve":
                var l = Random(n, n, 64);
                for (int i = 0; i < n; i++)
                {
                    l[(i * n) + i] = 2 + Math.Abs(l[(i * n) + i]);
                }

                return ([new(n, n, l), R(n, 2, 65)], b =>
                {
                    be.CholeskySolve(b[0], b[1]);
                    return 0;
                });
            case "SymmetricEigen":
                return ([Symmetric(n, 66), R(n, 1, 67), R(n, n, 68)], b =>
                {
                    be.SymmetricEigen(b[0], b[1], b[2]);
                    return 0;
                });
            case "KernelMatrix":
                return ([R(n, d, 69), R(m, d, 70), Symmetric(d, 71), R(n, m, 72), R(n, m, 73)], b =>
                {
                    be.KernelMatrix(new LaplaceKernel(2.0), b[0], b[1], b[2], b[3], b[4]);
                    return 0;
                });
            case "KernelMatrixDiagonalMetric":
                return ([R(n, d, 74), R(m, d, 75), new(d, 1, [0.5, 1.5, 2.0]), R(n, m, 76)], b =>
                {
                    be.KernelMatrix(new GaussianKernel(1.5), b[0], b[1], b[2], b[3]);
                    return 0;
                });
            case "KernelMatrixSymmetric":
                return ([R(n, d, 77), R(n, n, 78), R(n, n, 79)], b =>
                {
                    be.KernelMatrix(new PolynomialKernel(3, 0.5), b[0], b[0], null, b[1], b[2]);
                    return 0;
                });
            case "KernelMatrixHostProfile":
                // An interface-typed kernel: the ILGPU backend evaluates its profile on the host.
                return ([R(n, d, 80), R(m, d, 81), R(n, m, 82), R(n, m, 83)], b =>
                {
                    be.KernelMatrix(MakeKernel("genlaplace"), b[0], b[1], null, b[2], b[3]);
                    return 0;
                });
            case "KernelMatrixNormDependent":
                // κ(xᵀMz, xᵀMx, zᵀMz) with its two derivative blocks side by side (n × 2m).
                return ([R(n, d, 180), R(m, d, 181), R(n, m, 182), R(n, 2 * m, 183)], b =>
                {
                    be.KernelMatrix(new NormPolynomialKernel(0.3), b[0], b[1], null, b[2], b[3]);
                    return 0;
                });
            case "ApplyActivation":
                return ([R(n, d, 184), R(n, d, 185)], b =>
                {
                    be.ApplyActivation(FeatureLearning.Networks.Activation.Tanh, 1, b[0], b[1]);
                    return 0;
                });
            case "ApplyActivationInPlace":
                return ([R(n, d, 186)], b =>
                {
                    be.ApplyActivation(FeatureLearning.Networks.Activation.Gelu, 0, b[0], b[0]);
                    return 0;
                });
            case "Copy":
                return ([R(n, d, 84), R(n, d, 85)], b =>
                {
                    be.Copy(b[0], b[1]);
                    return 0;
                });
            case "Scale":
                return ([R(n, d, 86), R(n, d, 87)], b =>
                {
                    be.Scale(S(-1.5), b[0]);
                    be.Scale(T.Zero, b[1]);
                    return 0;
                });
            case "Axpy":
                return ([R(n, d, 88), R(n, d, 89)], b =>
                {
                    be.Axpy(S(2.5), b[0], b[1]);
                    return 0;
                });
            case "AddDiagonal":
                return ([R(n, n, 90)], b =>
                {
                    be.AddDiagonal(b[0], S(3.0));
                    return 0;
                });
            case "Hadamard":
                return ([R(n, d, 91), R(n, d, 92), R(n, d, 93), R(n, d, 94)], b =>
                {
                    be.Hadamard(b[0], b[1], b[2]);
                    be.Hadamard(b[2], b[3], b[3]);
                    return 0;
                });
            case "ScaleColumns":
                return ([R(n, d, 95), R(d, 1, 96)], b =>
                {
                    be.ScaleColumns(b[0], b[1]);
                    return 0;
                });
            case "ScaleRows":
                return ([R(n, d, 97), R(n, 1, 98)], b =>
                {
                    be.ScaleRows(b[0], b[1]);
                    return 0;
                });
            case "RowKronecker":
                return ([R(n, 2, 99), R(n, d, 100), R(n, 2 * d, 101)], b =>
                {
                    be.RowKronecker(b[0], b[1], b[2]);
                    return 0;
                });
            case "GatherColumns":
                return ([R(n, d, 110), R(n, 4, 111)], b =>
                {
                    be.GatherColumns(b[0], [2, 0, 2, 1], b[1]);
                    return 0;
                });
            case "BlockSum":
                return ([R(n, 2 * d, 102), R(n / 2, d, 103), R(n, d, 104)], b =>
                {
                    be.BlockSum(b[0], 2, 2, S(0.5), b[1]);
                    be.BlockSum(b[0], 1, 2, S(-1.0), b[2]);
                    return 0;
                });
            case "RowDot":
                return ([R(n, d, 105), R(n, d, 106), R(n, 1, 107)], b =>
                {
                    be.RowDot(b[0], b[1], b[2]);
                    return 0;
                });
            case "Dot":
                return ([R(n, d, 108), R(n, d, 109)], b => be.Dot(b[0], b[1]));
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, "No view case for this operation.");
        }
    }

    /// <summary>One buffer argument of an operation: its shape and initial row-major contents.</summary>
    private sealed record ViewArgument(int Rows, int Cols, double[] Data);

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

    private static double[] OutsideBlock(double[] a, int r0, int rows, int c0, int cols) => OutsideBlock(a, a.Length / ParentRows, r0, rows, c0, cols);

    private static double[] OutsideBlock(double[] a, int ld, int r0, int rows, int c0, int cols)
    {
        return a.Where((_, e) => e / ld < r0 || e / ld >= r0 + rows || e % ld < c0 || e % ld >= c0 + cols).ToArray();
    }
}
