using System.Diagnostics;
using System.Numerics;

namespace FeatureLearning.Compute;

/// <summary>
/// A dense row-major matrix that lives where a compute backend computes: managed memory for the CPU
/// backends, device memory for a GPU backend. Create one with <see cref="IComputeBackend.Allocate{T}"/> or
/// <see cref="IComputeBackend.Upload{T}(ReadOnlySpan{T}, int, int)"/>, read it back with
/// <see cref="IComputeBackend.Download{T}(DeviceBuffer{T}, Span{T})"/>, and dispose it when done.
/// </summary>
/// <remarks>
/// Storage convention: element (i, j) of an <c>Rows × Cols</c> buffer is at linear index
/// <c>i · Cols + j</c> (row-major, leading dimension = <see cref="Cols"/>); a data set of n points in d
/// dimensions is an n × d buffer, one point per row. A vector is an n × 1 or 1 × n buffer.
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[DebuggerDisplay("{GetType().Name,nq} {Rows} x {Cols}")]
public abstract class DeviceBuffer<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Initializes the shape of the buffer.</summary>
    /// <param name="backend">The backend that owns the memory.</param>
    /// <param name="rows">Number of rows (≥ 0).</param>
    /// <param name="cols">Number of columns (≥ 0).</param>
    protected DeviceBuffer(IComputeBackend backend, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        Backend = backend;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>The backend that owns this buffer; only that backend's operations accept it.</summary>
    public IComputeBackend Backend { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns (the leading dimension of the row-major storage).</summary>
    public int Cols { get; }

    /// <summary>Number of elements, <c>Rows · Cols</c>.</summary>
    /// <exception cref="OverflowException">The buffer has more than <see cref="int.MaxValue"/> elements (possible on a GPU backend); use <see cref="LongLength"/>.</exception>
    public int Length => checked((int)LongLength);

    /// <summary>Number of elements as a 64-bit count: GPU buffers may exceed 2³¹ elements (a 50,000 × 50,000 kernel matrix).</summary>
    public long LongLength => (long)Rows * Cols;

    /// <summary>Whether <see cref="Dispose()"/> has been called.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Releases the memory of the buffer. Further use throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (!IsDisposed)
        {
            IsDisposed = true;
            Dispose(true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the backend memory.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}<{typeof(T).Name}>[{Rows} x {Cols}] on {Backend.Name}";
}
