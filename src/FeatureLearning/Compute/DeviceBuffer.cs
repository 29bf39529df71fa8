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
/// <para>Views: <see cref="RowRange"/>, <see cref="ColumnRange"/> and <see cref="Slice"/> return a block of this buffer that
/// shares its storage (no copy), and <see cref="Reshape"/> the same contiguous elements with another shape. Element (i, j) of a view is at linear index <c><see cref="Offset"/> + i · <see cref="LeadingDimension"/> + j</c>
/// of the storage of its <see cref="Parent"/>. A row range is contiguous (<see cref="IsContiguous"/>); a block narrower than
/// its parent is strided. Every operation of <see cref="IComputeBackend"/> accepts either kind for every buffer argument and
/// gives the result of the same operation on a contiguous copy of the block, writing only inside an output view's block:
/// most read and write the view in place through its leading dimension, the kernel matrix stages a strided argument
/// through a pooled contiguous buffer (see <see cref="IComputeBackend"/>'s remarks). Disposing a view releases nothing;
/// disposing the parent makes every view of it disposed (<see cref="IsDisposed"/>), so a later use throws
/// <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[DebuggerDisplay("{GetType().Name,nq} {Rows} x {Cols}")]
public abstract class DeviceBuffer<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private bool disposed;

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
        LeadingDimension = cols;
    }

    /// <summary>
    /// Initializes a view of the storage of <paramref name="parent"/>: <paramref name="rows"/> × <paramref name="cols"/>
    /// elements, element (i, j) at linear index <paramref name="offset"/> + i · <paramref name="leadingDimension"/> + j of
    /// that storage (<see cref="Slice"/> and <see cref="Reshape"/> compute these and check their own arguments first).
    /// </summary>
    /// <param name="parent">The buffer (or a view of it) whose storage the view shares.</param>
    /// <param name="offset">Linear index of element (0, 0) in the storage of the owning buffer (≥ 0).</param>
    /// <param name="rows">Rows of the view (≥ 0).</param>
    /// <param name="cols">Columns of the view (≥ 0).</param>
    /// <param name="leadingDimension">Row stride of the view in elements (≥ <paramref name="cols"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative size or offset, a stride below the width, or elements outside the storage.</exception>
    protected DeviceBuffer(DeviceBuffer<T> parent, long offset, int rows, int cols, int leadingDimension)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfLessThan(leadingDimension, cols);
        var root = parent.Parent ?? parent;
        long extent = rows == 0 || cols == 0 ? 0 : ((long)(rows - 1) * leadingDimension) + cols;
        if (offset + extent > root.LongLength)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"A {rows} x {cols} view at {offset} with leading dimension {leadingDimension} runs past the {root.LongLength} elements of the buffer.");
        }

        Backend = parent.Backend;
        Rows = rows;
        Cols = cols;
        Parent = root;
        LeadingDimension = leadingDimension;
        Offset = offset;
    }

    /// <summary>The backend that owns this buffer; only that backend's operations accept it.</summary>
    public IComputeBackend Backend { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns.</summary>
    public int Cols { get; }

    /// <summary>
    /// The row stride of the storage in elements: element (i, j) is <see cref="LeadingDimension"/> elements after element
    /// (i − 1, j). It is <see cref="Cols"/> for a buffer that owns its storage and the parent's for a view.
    /// </summary>
    public int LeadingDimension { get; }

    /// <summary>The linear index of element (0, 0) in the storage of <see cref="Parent"/>; 0 for a buffer that owns its storage.</summary>
    public long Offset { get; }

    /// <summary>The buffer whose storage this view shares (never itself a view); <see langword="null"/> when this buffer owns its storage.</summary>
    public DeviceBuffer<T>? Parent { get; }

    /// <summary>Whether this buffer is a view of another (<see cref="Parent"/> is set).</summary>
    public bool IsView => Parent is not null;

    /// <summary>
    /// Whether the elements are one contiguous run in row-major order (leading dimension = <see cref="Cols"/>, or at most
    /// one row): true for every buffer that owns its storage and for row ranges. Every operation takes either kind;
    /// <see cref="Reshape"/> requires a contiguous buffer.
    /// </summary>
    public bool IsContiguous => Rows <= 1 || Cols == 0 || LeadingDimension == Cols;

    /// <summary>Number of elements, <c>Rows · Cols</c>.</summary>
    /// <exception cref="OverflowException">The buffer has more than <see cref="int.MaxValue"/> elements (possible on a GPU backend); use <see cref="LongLength"/>.</exception>
    public int Length => checked((int)LongLength);

    /// <summary>Number of elements as a 64-bit count: GPU buffers may exceed 2³¹ elements (a 50,000 × 50,000 kernel matrix).</summary>
    public long LongLength => (long)Rows * Cols;

    /// <summary>Whether <see cref="Dispose()"/> has been called on this buffer or, for a view, on its <see cref="Parent"/>.</summary>
    public bool IsDisposed => disposed || (Parent?.IsDisposed ?? false);

    /// <summary>
    /// Releases the memory of the buffer; further use throws <see cref="ObjectDisposedException"/>. For a view it only
    /// marks the view disposed: the parent and its other views stay valid.
    /// </summary>
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            if (!IsView)
            {
                Dispose(true);
            }
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>The rows <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1 as a view (contiguous, no copy).</summary>
    /// <param name="start">First row.</param>
    /// <param name="count">Number of rows.</param>
    /// <returns>A <paramref name="count"/> × <see cref="Cols"/> view sharing this buffer's storage.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the buffer.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public DeviceBuffer<T> RowRange(int start, int count) => Slice(start, count, 0, Cols);

    /// <summary>The columns <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1 as a view (strided unless it spans every column or one row).</summary>
    /// <param name="start">First column.</param>
    /// <param name="count">Number of columns.</param>
    /// <returns>A <see cref="Rows"/> × <paramref name="count"/> view sharing this buffer's storage.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the buffer.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public DeviceBuffer<T> ColumnRange(int start, int count) => Slice(0, Rows, start, count);

    /// <summary>The block of rows <paramref name="rowStart"/> + [0, <paramref name="rowCount"/>) and columns <paramref name="colStart"/> + [0, <paramref name="colCount"/>) as a view sharing this buffer's storage.</summary>
    /// <param name="rowStart">First row.</param>
    /// <param name="rowCount">Number of rows.</param>
    /// <param name="colStart">First column.</param>
    /// <param name="colCount">Number of columns.</param>
    /// <returns>The view; its <see cref="LeadingDimension"/> is this buffer's. Disposing it is optional and releases nothing.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The block is not inside the buffer.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public DeviceBuffer<T> Slice(int rowStart, int rowCount, int colStart, int colCount)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        CheckRange(this, rowStart, rowCount, colStart, colCount);
        return CreateView(Offset + ((long)rowStart * LeadingDimension) + colStart, rowCount, colCount, LeadingDimension);
    }

    /// <summary>
    /// The elements of this buffer, in row-major order, as a <paramref name="rows"/> × <paramref name="cols"/> view
    /// sharing its storage (no copy): element (i, j) of the view is element number i · <paramref name="cols"/> + j of this
    /// buffer. For instance an (n·P) × c matrix whose row j·P + p holds image j's patch p is, reshaped to n × (P·c), a
    /// matrix whose column block p·c … p·c + c − 1 holds the rows of patch p.
    /// </summary>
    /// <param name="rows">Rows of the view.</param>
    /// <param name="cols">Columns of the view; <paramref name="rows"/> · <paramref name="cols"/> must equal <see cref="LongLength"/>.</param>
    /// <returns>The contiguous view (its <see cref="LeadingDimension"/> is <paramref name="cols"/>). Disposing it is optional and releases nothing.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="cols"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="rows"/> · <paramref name="cols"/> differs from the number of elements.</exception>
    /// <exception cref="InvalidOperationException">This buffer is a strided view (<see cref="IsContiguous"/> is false): its elements are not one run.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public DeviceBuffer<T> Reshape(int rows, int cols)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if ((long)rows * cols != LongLength)
        {
            throw new ArgumentException($"A {Rows} x {Cols} buffer ({LongLength} elements) cannot be viewed as {rows} x {cols} ({(long)rows * cols} elements).", nameof(rows));
        }

        if (!IsContiguous)
        {
            throw new InvalidOperationException($"A strided {Rows} x {Cols} view (leading dimension {LeadingDimension}) is not one run of elements and cannot be reshaped; copy it into a buffer first.");
        }

        return CreateView(Offset, rows, cols, cols);
    }

    /// <summary>Creates the backend's view (the arguments are checked); implement it with the view constructor.</summary>
    /// <param name="offset">Linear index of element (0, 0) in the storage of the owning buffer.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns.</param>
    /// <param name="leadingDimension">Row stride in elements.</param>
    /// <returns>The view.</returns>
    protected abstract DeviceBuffer<T> CreateView(long offset, int rows, int cols, int leadingDimension);

    /// <summary>Releases the backend memory.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);

    /// <inheritdoc />
    public override string ToString() =>
        $"{GetType().Name}<{typeof(T).Name}>[{Rows} x {Cols}]{(IsView ? $" view at {Offset}, ld {LeadingDimension}," : string.Empty)} on {Backend.Name}";

    private static void CheckRange(DeviceBuffer<T> parent, int rowStart, int rowCount, int colStart, int colCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowStart);
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        ArgumentOutOfRangeException.ThrowIfNegative(colStart);
        ArgumentOutOfRangeException.ThrowIfNegative(colCount);
        if ((long)rowStart + rowCount > parent.Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(rowCount), $"Rows {rowStart} + {rowCount} run past the {parent.Rows} rows of the buffer.");
        }

        if ((long)colStart + colCount > parent.Cols)
        {
            throw new ArgumentOutOfRangeException(nameof(colCount), $"Columns {colStart} + {colCount} run past the {parent.Cols} columns of the buffer.");
        }
    }
}
