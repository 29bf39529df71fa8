using System.Numerics;

namespace FeatureLearning.Compute.Managed;

/// <summary>A buffer in pinned managed memory (the pinned object heap), so kernels may use raw pointers.</summary>
internal sealed unsafe class ManagedBuffer<T> : DeviceBuffer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly PinnedArrayPool? pool;
    private T[]? data;

    public ManagedBuffer(IComputeBackend backend, int rows, int cols, PinnedArrayPool? pool)
        : base(backend, rows, cols)
    {
        if (LongLength > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"A {rows} x {cols} buffer has more than {Array.MaxLength} elements, the most a CPU backend can hold.");
        }

        this.pool = pool;
        data = pool is null ? GC.AllocateUninitializedArray<T>(rows * cols, pinned: true) : pool.Rent<T>(rows * cols);
    }

    public T[] Data => data ?? throw new ObjectDisposedException(nameof(ManagedBuffer<T>), "The buffer has been disposed.");

    public Span<T> Span => Data.AsSpan();

    public T* Pointer => (T*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(Data));

    protected override void Dispose(bool disposing)
    {
        if (disposing && data is not null)
        {
            pool?.Return(data);
        }

        data = null;
    }
}
