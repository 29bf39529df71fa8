using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.Backends.Ilgpu;

/// <content>Buffers: allocation from the device memory pool (<see cref="DeviceMemoryPool"/>), uploads and downloads (row by row into and out of a strided view).</content>
public sealed partial class IlgpuBackend
{
    /// <inheritdoc />
    public DeviceBuffer<T> Allocate<T>(int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        using var exclusive = Enter();
        return new IlgpuBuffer<T>(this, rows, cols, Rent<T>(Math.Max(1, (long)rows * cols)));
    }

    /// <inheritdoc />
    public DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T> => Operands.AllocateAndUpload(this, data, rows, cols);

    /// <inheritdoc />
    public void Upload<T>(ReadOnlySpan<T> data, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = Own(destination, nameof(destination), strided: true);
        Shapes.CheckHostLength(data.Length, d, upload: true, nameof(data));

        if (data.Length > 0)
        {
            using var exclusive = Enter();
            if (d.IsContiguous)
            {
                HostCopy.ToDevice(data, d.View);
                return;
            }

            for (int i = 0; i < d.Rows; i++)
            {
                HostCopy.ToDevice(data.Slice(i * d.Cols, d.Cols), d.Row(i));
            }
        }
    }

    /// <inheritdoc />
    public void Download<T>(DeviceBuffer<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = Own(source, nameof(source), strided: true);
        Shapes.CheckHostLength(destination.Length, s, upload: false, nameof(destination));

        if (destination.Length > 0)
        {
            using var exclusive = Enter();
            if (s.IsContiguous)
            {
                HostCopy.ToHost(s.View, destination);
                return;
            }

            for (int i = 0; i < s.Rows; i++)
            {
                HostCopy.ToHost(s.Row(i), destination.Slice(i * s.Cols, s.Cols));
            }
        }
    }
}
