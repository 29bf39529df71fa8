using System.Numerics;
using FeatureLearning.Compute;
using ILGPU;
using ILGPU.Runtime;

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
        where T : unmanaged, IFloatingPointIeee754<T> => Transfer(Own(destination, nameof(destination)), Operands.Unlocked(data), upload: true);

    /// <inheritdoc />
    public void Download<T>(DeviceBuffer<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Transfer(Own(source, nameof(source)), destination, upload: false);

    /// <summary>An upload or download under the backend's lock: the whole buffer in one copy, a strided view row by row.</summary>
    private void Transfer<T>(IlgpuBuffer<T> buffer, Span<T> host, bool upload)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var exclusive = Enter();
        Operands.Transfer(buffer, host, upload, (b, row, h, up) =>
        {
            ArrayView1D<T, Stride1D.Dense> run = row < 0 ? b.View : b.Row(row);
            if (up)
            {
                HostCopy.ToDevice<T>(clock, h, run);
            }
            else
            {
                HostCopy.ToHost(clock, run, h);
            }
        });
    }
}
