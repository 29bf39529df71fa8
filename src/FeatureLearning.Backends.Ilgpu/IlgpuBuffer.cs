using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>A row-major matrix in device memory of an <see cref="IlgpuBackend"/>, or a view of one.</summary>
/// <typeparam name="T">float or double.</typeparam>
internal sealed unsafe class IlgpuBuffer<T> : FeatureLearning.Compute.DeviceBuffer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IlgpuBackend owner;
    private readonly IlgpuBuffer<T>? root;
    private MemoryBuffer1D<T, Stride1D.Dense>? memory;

    public IlgpuBuffer(IlgpuBackend owner, int rows, int cols, MemoryBuffer1D<T, Stride1D.Dense> memory)
        : base(owner, rows, cols)
    {
        this.owner = owner;
        this.memory = memory;
    }

    private IlgpuBuffer(IlgpuBuffer<T> parent, long offset, int rows, int cols, int leadingDimension)
        : base(parent, offset, rows, cols, leadingDimension)
    {
        owner = parent.owner;
        root = parent.root ?? parent;
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Memory => (root is null ? memory : root.memory) ?? throw new ObjectDisposedException(nameof(IlgpuBuffer<T>), "The buffer has been disposed.");

    /// <summary>
    /// The elements from (0, 0) to the last one: exactly <see cref="FeatureLearning.Compute.DeviceBuffer{T}.LongLength"/> of them for a
    /// contiguous buffer, (rows − 1)·ld + cols for a strided view; one element for an empty buffer (the allocation holds at least one).
    /// </summary>
    public ArrayView<T> View
    {
        get
        {
            long extent = Rows == 0 || Cols == 0 ? 0 : ((long)(Rows - 1) * LeadingDimension) + Cols;
            return extent == 0 ? Memory.View.SubView(0, 1).BaseView : Memory.View.SubView(Offset, extent).BaseView;
        }
    }

    /// <summary>The view of row <paramref name="i"/>.</summary>
    public ArrayView1D<T, Stride1D.Dense> Row(int i) => Memory.View.SubView(Offset + ((long)i * LeadingDimension), Cols);

    /// <summary>The device address of element (0, 0) (CUDA device pointer on CUDA).</summary>
    public nint Pointer => Memory.NativePtr + (nint)(Offset * sizeof(T));

    /// <summary>The device address of element <paramref name="offset"/> counted from (0, 0).</summary>
    public nint At(long offset) => Pointer + (nint)(offset * sizeof(T));

    protected override FeatureLearning.Compute.DeviceBuffer<T> CreateView(long offset, int rows, int cols, int leadingDimension) =>
        new IlgpuBuffer<T>(this, offset, rows, cols, leadingDimension);

    protected override void Dispose(bool disposing)
    {
        if (memory is not null)
        {
            if (disposing)
            {
                owner.Return(memory);
            }

            memory = null;
        }
    }
}
