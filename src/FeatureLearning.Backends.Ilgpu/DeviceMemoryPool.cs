using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>
/// The device memory of an <see cref="IlgpuBackend"/>: allocations from the accelerator, and a pool of freed buffers
/// kept by exact (element type, length) for reuse, up to a byte budget; it counts the bytes in use and their peak. A
/// failed allocation empties the pool, retries once, and then throws <see cref="DeviceOutOfMemoryException"/>.
/// </summary>
/// <remarks>Thread-safe. The backend checks its own disposal before renting and frees what <see cref="TryKeep{T}"/> refuses.</remarks>
/// <param name="accelerator">The device.</param>
/// <param name="budgetBytes">The most bytes of freed buffers kept for reuse.</param>
internal sealed class DeviceMemoryPool(Accelerator accelerator, long budgetBytes)
{
    private readonly Dictionary<(Type Type, long Length), Stack<MemoryBuffer>> free = [];
    private long pooledBytes;
    private long bytesInUse;
    private long peakBytesInUse;
    private bool closed;

    /// <summary>The most bytes of freed buffers kept for reuse.</summary>
    public long BudgetBytes => budgetBytes;

    /// <summary>Bytes held by rented memory not yet given back.</summary>
    public long BytesInUse => Interlocked.Read(ref bytesInUse);

    /// <summary>The largest <see cref="BytesInUse"/> since creation or <see cref="ResetPeak"/>.</summary>
    public long PeakBytesInUse => Interlocked.Read(ref peakBytesInUse);

    /// <summary>Restarts <see cref="PeakBytesInUse"/> from <see cref="BytesInUse"/>.</summary>
    public void ResetPeak() => Interlocked.Exchange(ref peakBytesInUse, BytesInUse);

    /// <summary>Device memory of <paramref name="length"/> elements from the pool or the device; give it back with <see cref="TryKeep{T}"/> (and free it if that returns false).</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Rent<T>(long length)
        where T : unmanaged
    {
        var memory = Obtain<T>(length);
        long inUse = Interlocked.Add(ref bytesInUse, memory.LengthInBytes);
        long peak;
        while (inUse > (peak = Interlocked.Read(ref peakBytesInUse)) && Interlocked.CompareExchange(ref peakBytesInUse, inUse, peak) != peak)
        {
        }

        return memory;
    }

    /// <summary>
    /// Takes rented memory back: it no longer counts as in use, and it is kept for reuse unless the pool is closed or
    /// full. When this returns false the caller frees the memory.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="memory">Memory from <see cref="Rent{T}"/>.</param>
    /// <returns>Whether the pool kept it.</returns>
    public bool TryKeep<T>(MemoryBuffer1D<T, Stride1D.Dense> memory)
        where T : unmanaged
    {
        Interlocked.Add(ref bytesInUse, -memory.LengthInBytes);
        lock (free)
        {
            if (closed || pooledBytes + memory.LengthInBytes > budgetBytes)
            {
                return false;
            }

            var key = (typeof(T), memory.Length);
            if (!free.TryGetValue(key, out var stack))
            {
                free[key] = stack = new Stack<MemoryBuffer>();
            }

            stack.Push(memory);
            pooledBytes += memory.LengthInBytes;
            return true;
        }
    }

    /// <summary>Frees the pooled buffers and keeps none from now on (the backend is being disposed).</summary>
    public void Close()
    {
        lock (free)
        {
            closed = true;
            Clear();
        }
    }

    /// <summary>Frees the pooled buffers.</summary>
    public void Clear()
    {
        lock (free)
        {
            foreach (var stack in free.Values)
            {
                while (stack.Count > 0)
                {
                    stack.Pop().Dispose();
                }
            }

            free.Clear();
            pooledBytes = 0;
        }
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Obtain<T>(long length)
        where T : unmanaged
    {
        lock (free)
        {
            if (free.TryGetValue((typeof(T), length), out var stack) && stack.Count > 0)
            {
                var pooled = stack.Pop();
                pooledBytes -= pooled.LengthInBytes;
                return (MemoryBuffer1D<T, Stride1D.Dense>)pooled;
            }
        }

        long bytes = length * Marshal.SizeOf<T>();
        if (bytes > accelerator.MemorySize)
        {
            throw new DeviceOutOfMemoryException(accelerator.Name, bytes, FreeMemory(), accelerator.MemorySize, null);
        }

        try
        {
            return accelerator.Allocate1D<T>(length);
        }
        catch (Exception first) when (first is OutOfMemoryException or AcceleratorException)
        {
            Clear();
            try
            {
                return accelerator.Allocate1D<T>(length);
            }
            catch (Exception second) when (second is OutOfMemoryException or AcceleratorException)
            {
                throw new DeviceOutOfMemoryException(accelerator.Name, bytes, FreeMemory(), accelerator.MemorySize, second);
            }
        }
    }

    private long FreeMemory()
    {
        try
        {
            return accelerator is CudaAccelerator c ? c.GetFreeMemory() : -1;
        }
        catch (AcceleratorException)
        {
            return -1;
        }
    }
}
