using System.Numerics;
using FeatureLearning.Compute;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// Reshape views: a reshaped buffer reads as the same elements in another shape, an operation on it (or on a block of it)
/// equals the operation on an uploaded copy of that shape, writes land in the parent's storage, and the error contract.
/// </summary>
public abstract partial class BackendConformanceTests
{
    [SkippableFact]
    public void ReshapeViewsReadAndWriteTheSameElementsInAnotherShape()
    {
        CheckReshape<double>();
        CheckReshape<float>();
    }

    [SkippableFact]
    public void ReshapeRejectsAnotherElementCountAndStridedViews()
    {
        using var p = Backend.Upload<double>(Random(6, 4, 63), 6, 4);
        FluentActions.Invoking(() => p.Reshape(5, 5)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rows");
        FluentActions.Invoking(() => p.Reshape(-2, -12)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("rows");
        FluentActions.Invoking(() => p.ColumnRange(1, 2).Reshape(3, 4)).Should().Throw<InvalidOperationException>().WithMessage("*strided*");

        // One row of a strided block is contiguous, and an empty buffer reshapes to any empty shape.
        Download(Backend, p.Slice(2, 1, 1, 2).Reshape(2, 1)).Should().Equal(Download(Backend, p).Skip((2 * 4) + 1).Take(2));
        p.RowRange(3, 0).Reshape(0, 7).LongLength.Should().Be(0);

        var reshaped = p.Reshape(3, 8);
        p.Dispose();
        reshaped.IsDisposed.Should().BeTrue();
        FluentActions.Invoking(() => Download(Backend, reshaped)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => p.Reshape(3, 8)).Should().Throw<ObjectDisposedException>();
    }

    private void CheckReshape<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // A 9 × 6 parent; its rows 2..7 (6 × 6, a contiguous view at offset 12) reshaped to 4 × 9.
        var data = ToDouble(Cast<T>(Random(9, 6, 61)));
        using var parent = Backend.Upload<T>(Cast<T>(data), 9, 6);
        var rows = parent.RowRange(2, 6);
        var view = rows.Reshape(4, 9);
        var elements = data.Skip(12).Take(36).ToArray();
        view.Parent.Should().BeSameAs(parent);
        (view.Offset, view.LeadingDimension, view.IsContiguous).Should().Be((12L, 9, true));
        Download(Backend, view).Should().Equal(elements);

        // GEMM reading the reshaped view equals GEMM on an uploaded 4 × 9 copy.
        var b = Cast<T>(Random(9, 3, 62));
        using var copy = Backend.Upload<T>(Cast<T>(elements), 4, 9);
        using var bb = Backend.Upload<T>(b, 9, 3);
        using var c1 = Backend.Allocate<T>(4, 3);
        using var c2 = Backend.Allocate<T>(4, 3);
        Backend.Gemm(Transpose.None, Transpose.None, T.One, view, bb, T.Zero, c1);
        Backend.Gemm(Transpose.None, Transpose.None, T.One, copy, bb, T.Zero, c2);
        Download(Backend, c1).Should().Equal(Download(Backend, c2));

        // The ConvRFM spread: an (n·P) × c matrix with row j·P + p = s·α_j, written through the column blocks p·c … p·c + c − 1
        // of its n × (P·c) reshape (strided views) by Copy and Scale; n = 3, P = 4, c = 2.
        const int n = 3, positions = 4, outputs = 2;
        var alpha = ToDouble(Cast<T>(Random(n, outputs, 64)));
        using var alphaBuffer = Backend.Upload<T>(Cast<T>(alpha), n, outputs);
        using var spread = Backend.Allocate<T>(n * positions, outputs);
        var byImage = spread.Reshape(n, positions * outputs);
        for (int p = 0; p < positions; p++)
        {
            var block = byImage.ColumnRange(p * outputs, outputs);
            block.IsContiguous.Should().BeFalse();
            Backend.Copy(alphaBuffer, block);
            Backend.Scale(T.CreateTruncating(0.5), block);
        }

        var expected = Enumerable.Range(0, n * positions * outputs).Select(e => 0.5 * alpha[((e / (positions * outputs)) * outputs) + (e % outputs)]).ToArray();
        RelativeError(Download(Backend, spread), expected).Should().BeLessThan(Tolerance<T>());

        // A write through the reshaped row view lands in rows 2..7 of the parent and nowhere else.
        Backend.Scale(T.CreateTruncating(-2), view);
        var after = Download(Backend, parent);
        RelativeError(after.Skip(12).Take(36).ToArray(), elements.Select(v => -2 * v).ToArray()).Should().BeLessThan(Tolerance<T>());
        after.Take(12).Concat(after.Skip(48)).Should().Equal(data.Take(12).Concat(data.Skip(48)));
    }
}
