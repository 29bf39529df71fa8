using System.Numerics;

namespace FeatureLearning.Compute.Managed;

/// <summary>A buffer in pinned managed memory (the pinned object heap), so kernels may use raw pointers; or a view of one.</summary>
internal sealed unsafe class ManagedBuffer<T> : DeviceBuffer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly PinnedArrayPool? pool;
    private readonly ManagedBuffer<T>? owner;
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

    private ManagedBuffer(ManagedBuffer<T> parent, long offset, int rows, int cols, int leadingDimension)
        : base(parent, offset, rows, cols, leadingDimension) => owner = parent.owner ?? parent;

    /// <summary>The whole storage array of the owning buffer (a view starts at <see cref="DeviceBuffer{T}.Offset"/> in it).</summary>
    public T[] Data => (owner is null ? data : owner.data) ?? throw new ObjectDisposedException(nameof(ManagedBuffer<T>), "The buffer has been disposed.");

    /// <summary>The elements as one span (contiguous buffers and views only).</summary>
    public Span<T> Span => IsContiguous
        ? Data.AsSpan((int)Offset, Length)
        : throw new InvalidOperationException("A strided view has no single span; the operation should have rejected it.");

    /// <summary>Row <paramref name="i"/> (any buffer or view).</summary>
    public Span<T> Row(int i) => Data.AsSpan((int)(Offset + ((long)i * LeadingDimension)), Cols);

    /// <summary>The address of element (0, 0).</summary>
    public T* Pointer => (T*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(Data)) + Offset;

    protected override DeviceBuffer<T> CreateView(long offset, int rows, int cols, int leadingDimension) => new ManagedBuffer<T>(this, offset, rows, cols, leadingDimension);

    protected override void Dispose(bool disposing)
    {
        if (disposing && data is not null)
        {
            pool?.Return(data);
        }

        data = null;
    }
}
