using System.Numerics;
using FeatureLearning.Compute;
using ILGPU;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <content>The precision conversion primitive: one device kernel per direction, strided views read and written in place.</content>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, ArrayView<double>, int, ArrayView<float>, int, int>? toSingle;
    private Action<Index1D, ArrayView<float>, int, ArrayView<double>, int, int>? toDouble;

    /// <inheritdoc />
    public void Convert<TSource, TDestination>(DeviceBuffer<TSource> source, DeviceBuffer<TDestination> destination)
        where TSource : unmanaged, IFloatingPointIeee754<TSource>
        where TDestination : unmanaged, IFloatingPointIeee754<TDestination>
    {
        var (s, d) = (Own(source, nameof(source)), Own(destination, nameof(destination)));
        Shapes.CheckConvert(source, destination);
        if (typeof(TSource) == typeof(TDestination))
        {
            Copy(source, (DeviceBuffer<TSource>)(object)destination);
            return;
        }

        long length = s.LongLength;
        if (length == 0)
        {
            return;
        }

        if (length > int.MaxValue)
        {
            throw new ArgumentException($"Convert handles at most {int.MaxValue} elements per call; the buffer has {length}.", nameof(source));
        }

        using var exclusive = Enter();
        using var launch = clock.Launch();
        if (typeof(TSource) == typeof(double))
        {
            toSingle ??= clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, int, ArrayView<float>, int, int>(ToSingle));
            toSingle((int)length, s.View.Cast<double>(), s.LeadingDimension, d.View.Cast<float>(), d.LeadingDimension, s.Cols);
        }
        else
        {
            toDouble ??= clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<double>, int, int>(ToDouble));
            toDouble((int)length, s.View.Cast<float>(), s.LeadingDimension, d.View.Cast<double>(), d.LeadingDimension, s.Cols);
        }
    }

    private static void ToSingle(Index1D i, ArrayView<double> source, int lds, ArrayView<float> destination, int ldd, int cols)
    {
        int row = i / cols, col = i - (row * cols);
        destination[((long)row * ldd) + col] = (float)source[((long)row * lds) + col];
    }

    private static void ToDouble(Index1D i, ArrayView<float> source, int lds, ArrayView<double> destination, int ldd, int cols)
    {
        int row = i / cols, col = i - (row * cols);
        destination[((long)row * ldd) + col] = source[((long)row * lds) + col];
    }
}
