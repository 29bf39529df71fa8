using System.Numerics;
using FeatureLearning.Compute;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <content>
/// The element-wise and reduction primitives, each one ILGPU kernel (two for a block sum over row groups). Every kernel takes
/// the leading dimension of each matrix operand (and the stride of a vector), so strided views are read and written in place.
/// </content>
public sealed partial class IlgpuBackend
{
    /// <inheritdoc />
    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (s, d) = (Own(source, nameof(source)), Own(destination, nameof(destination)));
        bool contiguous = s.IsContiguous && d.IsContiguous;
        if (contiguous)
        {
            Shapes.CheckSameLength(source, destination, nameof(destination));
        }
        else
        {
            Shapes.CheckSameShape(source, destination, nameof(destination));
        }

        if (s.LongLength > 0)
        {
            using var exclusive = Enter();
            if (contiguous)
            {
                d.View.CopyFrom(s.View);
            }
            else
            {
                Kernels<T>().Strided(s.Rows, s.Cols, s.View, s.LeadingDimension, d.View, d.LeadingDimension, T.Zero, 0);
            }
        }
    }

    /// <inheritdoc />
    public void Scale<T>(T alpha, DeviceBuffer<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Own(x, nameof(x));
        if (g.LongLength > 0)
        {
            using var exclusive = Enter();
            if (g.IsContiguous)
            {
                Kernels<T>().Scale(g.View, alpha, alpha == T.Zero, g.LongLength);
            }
            else
            {
                Kernels<T>().Strided(g.Rows, g.Cols, g.View, g.LeadingDimension, g.View, g.LeadingDimension, alpha, alpha == T.Zero ? 3 : 2);
            }
        }
    }

    /// <inheritdoc />
    public void Axpy<T>(T alpha, DeviceBuffer<T> x, DeviceBuffer<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (gx, gy) = (Own(x, nameof(x)), Own(y, nameof(y)));
        Shapes.CheckSameShape(x, y, nameof(y));
        if (gx.LongLength > 0)
        {
            using var exclusive = Enter();
            if (gx.IsContiguous && gy.IsContiguous)
            {
                Kernels<T>().Axpy(gx.View, gy.View, alpha, gx.LongLength);
            }
            else
            {
                Kernels<T>().Strided(gx.Rows, gx.Cols, gx.View, gx.LeadingDimension, gy.View, gy.LeadingDimension, alpha, 1);
            }
        }
    }

    /// <inheritdoc />
    public void AddDiagonal<T>(DeviceBuffer<T> a, T value)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Own(a, nameof(a));
        Shapes.CheckSquare(a, nameof(a));
        if (a.Rows > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().AddDiagonal(a.Rows, g.View, a.LeadingDimension, value);
        }
    }

    /// <inheritdoc />
    public void Hadamard<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb, gc) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(c, nameof(c)));
        Shapes.CheckHadamard(a, b, c);
        if (ga.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().Hadamard(a.Rows, a.Cols, ga.View, a.LeadingDimension, gb.View, b.LeadingDimension, gc.View, c.LeadingDimension);
        }
    }

    /// <inheritdoc />
    public void ScaleColumns<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> => ScaleByVector(a, v, byRow: false);

    /// <inheritdoc />
    public void ScaleRows<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> => ScaleByVector(a, v, byRow: true);

    /// <inheritdoc />
    /// <remarks>
    /// On the device, in two passes so that every thread has little serial work even when R is small: each row of A is
    /// summed over its column groups into a (A.Rows × R.Cols) scratch matrix, then each result element sums its
    /// rowGroup scratch rows. A and R may be strided views (the kernels take their leading dimensions).
    /// </remarks>
    public void BlockSum<T>(DeviceBuffer<T> a, int rowGroup, int colGroup, T scale, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gr) = (Own(a, nameof(a)), Own(result, nameof(result)));
        Shapes.CheckBlockSum(a, rowGroup, colGroup, result);
        if (gr.LongLength == 0)
        {
            return;
        }

        using var exclusive = Enter();
        if (rowGroup == 1)
        {
            Kernels<T>().BlockSum(ga.View, a.LeadingDimension, gr.View, result.LeadingDimension, result.Rows, result.Cols, 1, colGroup, scale);
            return;
        }

        using var rowSums = Allocate<T>(a.Rows, result.Cols);
        var gs = Own(rowSums, nameof(rowSums));
        Kernels<T>().BlockSum(ga.View, a.LeadingDimension, gs.View, result.Cols, a.Rows, result.Cols, 1, colGroup, T.One);
        Kernels<T>().BlockSum(gs.View, result.Cols, gr.View, result.LeadingDimension, result.Rows, result.Cols, rowGroup, 1, scale);
    }

    /// <inheritdoc />
    public void RowKronecker<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb, gr) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(result, nameof(result)));
        Shapes.CheckRowKronecker(a, b, result);
        if (gr.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().RowKronecker(a.Rows, ga.View, a.Cols, a.LeadingDimension, gb.View, b.Cols, b.LeadingDimension, gr.View, result.LeadingDimension);
        }
    }

    /// <inheritdoc />
    /// <remarks>On the device: the indices are uploaded, then one kernel gathers every element (A and D may be strided views).</remarks>
    public void GatherColumns<T>(DeviceBuffer<T> source, ReadOnlySpan<int> columns, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (gs, gd) = (Own(source, nameof(source)), Own(destination, nameof(destination)));
        Shapes.CheckGatherColumns(source, columns, destination);
        if (gd.LongLength == 0)
        {
            return;
        }

        using var exclusive = Enter();
        using var index = accelerator.Allocate1D<int>(columns.Length);
        HostCopy.ToDevice(clock, columns, index.View);
        Kernels<T>().GatherColumns(source.Rows, gs.View, source.LeadingDimension, index.View, columns.Length, gd.View, destination.LeadingDimension);
    }

    /// <inheritdoc />
    public void RowDot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb, gr) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(result, nameof(result)));
        Shapes.CheckRowDot(a, b, result);
        if (a.Rows > 0)
        {
            using var exclusive = Enter();
            if (a.Cols == 0)
            {
                Scale(T.Zero, result);
                return;
            }

            Kernels<T>().RowDot(a.Rows, a.Cols, ga.View, a.LeadingDimension, gb.View, b.LeadingDimension, gr.View, Operands.VectorStride(result));
        }
    }

    /// <inheritdoc />
    public double Dot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb) = (Own(a, nameof(a)), Own(b, nameof(b)));
        Shapes.CheckSameShape(a, b, nameof(b));
        if (ga.LongLength == 0)
        {
            return 0;
        }

        using var exclusive = Enter();
        var kernels = Kernels<T>();
        int parts = (int)Math.Min(ga.LongLength, Math.Min(kernels.StrideThreads, 1 << 16));
        using var partials = accelerator.Allocate1D<double>(parts);
        kernels.DotPartials(a.Rows, a.Cols, ga.View, a.LeadingDimension, gb.View, b.LeadingDimension, partials.View);
        var host = HostCopy.ToHostArray(clock, partials.View);
        double sum = 0;
        foreach (double p in host)
        {
            sum += p;
        }

        return sum;
    }

    /// <summary>Scales the columns of A by v (or its rows, <paramref name="byRow"/>); A and v may be strided views.</summary>
    private void ScaleByVector<T>(DeviceBuffer<T> a, DeviceBuffer<T> v, bool byRow)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gv) = (Own(a, nameof(a)), Own(v, nameof(v)));
        Shapes.CheckVector(v, byRow ? a.Rows : a.Cols, nameof(v));
        if (ga.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().ScaleByVector(ga.View, a.Rows, a.Cols, a.LeadingDimension, gv.View, Operands.VectorStride(v), byRow);
        }
    }
}
