using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>A row-major matrix in device memory of an <see cref="IlgpuBackend"/>.</summary>
/// <typeparam name="T">float or double.</typeparam>
internal sealed unsafe class IlgpuBuffer<T> : FeatureLearning.Compute.DeviceBuffer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IlgpuBackend owner;
    private MemoryBuffer1D<T, Stride1D.Dense>? memory;

    public IlgpuBuffer(IlgpuBackend owner, int rows, int cols, MemoryBuffer1D<T, Stride1D.Dense> memory)
        : base(owner, rows, cols)
    {
        this.owner = owner;
        this.memory = memory;
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Memory => memory ?? throw new ObjectDisposedException(nameof(IlgpuBuffer<T>), "The buffer has been disposed.");

    /// <summary>The view of exactly <see cref="FeatureLearning.Compute.DeviceBuffer{T}.LongLength"/> elements (the allocation holds at least one).</summary>
    public ArrayView<T> View => Memory.View.SubView(0, Math.Max(1, LongLength)).BaseView;

    /// <summary>The device address of element 0 (CUDA device pointer on CUDA).</summary>
    public nint Pointer => Memory.NativePtr;

    /// <summary>The device address of element <paramref name="offset"/>.</summary>
    public nint At(long offset) => Memory.NativePtr + (nint)(offset * sizeof(T));

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
