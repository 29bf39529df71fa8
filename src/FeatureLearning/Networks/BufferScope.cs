using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.Networks;

/// <summary>The device buffers of one network operation, disposed together when it returns.</summary>
/// <typeparam name="T">float or double.</typeparam>
internal sealed class BufferScope<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<DeviceBuffer<T>> buffers = [];

    public BufferScope(IComputeBackend backend) => Backend = backend;

    public IComputeBackend Backend { get; }

    /// <summary>A new uninitialised buffer owned by the scope.</summary>
    public DeviceBuffer<T> Allocate(int rows, int cols) => Add(Backend.Allocate<T>(rows, cols));

    /// <summary>A new buffer holding <paramref name="data"/> (row-major), owned by the scope.</summary>
    public DeviceBuffer<T> Upload(ReadOnlySpan<T> data, int rows, int cols) => Add(Backend.Upload(data, rows, cols));

    /// <summary>A rows × cols buffer of ones.</summary>
    public DeviceBuffer<T> Ones(int rows, int cols)
    {
        var ones = new T[rows * cols];
        Array.Fill(ones, T.One);
        return Upload(ones, rows, cols);
    }

    /// <summary>Takes ownership of <paramref name="buffer"/>.</summary>
    public DeviceBuffer<T> Add(DeviceBuffer<T> buffer)
    {
        buffers.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        for (int i = buffers.Count - 1; i >= 0; i--)
        {
            buffers[i].Dispose();
        }

        buffers.Clear();
    }
}
