using System.Numerics;
using System.Runtime.CompilerServices;

namespace FeatureLearning.Compute;

/// <summary>
/// The ownership half of the prologue every backend operation starts with (the shape half is <see cref="Shapes"/>):
/// a buffer argument must be non-null, of the backend's own buffer type, allocated by that very backend, and not disposed.
/// </summary>
internal static class Operands
{
    /// <summary>The backend's own buffer behind <paramref name="buffer"/>.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <typeparam name="TBuffer">The backend's buffer type.</typeparam>
    /// <param name="backend">The backend running the operation.</param>
    /// <param name="buffer">The argument.</param>
    /// <param name="name">The argument's name, for the exception.</param>
    /// <returns>The buffer as <typeparamref name="TBuffer"/>; it may be a strided view, which every operation accepts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentException">The buffer belongs to another backend.</exception>
    /// <exception cref="ObjectDisposedException">The buffer (or the parent of a view) has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TBuffer Own<T, TBuffer>(IComputeBackend backend, DeviceBuffer<T> buffer, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TBuffer : DeviceBuffer<T>
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is not TBuffer mine || !ReferenceEquals(buffer.Backend, backend))
        {
            throw Foreign(backend, buffer, name);
        }

        ObjectDisposedException.ThrowIf(buffer.IsDisposed, buffer);
        return mine;
    }

    /// <summary>
    /// A new buffer holding <paramref name="data"/>: the shared body of
    /// <see cref="IComputeBackend.Upload{T}(ReadOnlySpan{T}, int, int)"/>. The buffer is disposed again if the upload throws.
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="backend">The backend.</param>
    /// <param name="data">Row-major data, rows × cols elements.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="cols">Columns.</param>
    /// <returns>The buffer.</returns>
    public static DeviceBuffer<T> AllocateAndUpload<T>(IComputeBackend backend, ReadOnlySpan<T> data, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var buffer = backend.Allocate<T>(rows, cols);
        try
        {
            backend.Upload(data, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        return buffer;
    }

    /// <summary>
    /// The distance in elements between consecutive elements of a vector buffer: 1 for a 1 × n vector (always contiguous),
    /// the leading dimension for an n × 1 one (a column view of a wider matrix has one larger than 1).
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="vector">A 1 × n or n × 1 buffer or view.</param>
    /// <returns>The stride.</returns>
    public static int VectorStride<T>(DeviceBuffer<T> vector)
        where T : unmanaged, IFloatingPointIeee754<T> => vector.Cols == 1 ? vector.LeadingDimension : 1;

    /// <summary>
    /// The shared body of the upload into an existing buffer and of the download (the ownership check is the caller's):
    /// checks the host length, then hands <paramref name="copy"/> the runs to move — the whole buffer at once (row −1)
    /// when it is contiguous, else one row of a strided view at a time with its slice of the host memory.
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <typeparam name="TBuffer">The backend's buffer type.</typeparam>
    /// <param name="buffer">The backend's buffer (or view).</param>
    /// <param name="host">The host memory, row-major (for an upload it is only read).</param>
    /// <param name="upload">True for host → buffer.</param>
    /// <param name="copy">Moves one run: (buffer, row or −1 for all, host slice, upload).</param>
    public static void Transfer<T, TBuffer>(TBuffer buffer, Span<T> host, bool upload, RunCopy<T, TBuffer> copy)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TBuffer : DeviceBuffer<T>
    {
        Shapes.CheckHostLength(host.Length, buffer, upload, upload ? "data" : "destination");
        if (host.Length == 0)
        {
            return;
        }

        if (buffer.IsContiguous)
        {
            copy(buffer, -1, host, upload);
            return;
        }

        for (int i = 0; i < buffer.Rows; i++)
        {
            copy(buffer, i, host.Slice(i * buffer.Cols, buffer.Cols), upload);
        }
    }

    /// <summary>A read-only host span as a span, for <see cref="Transfer{T, TBuffer}"/>, which only reads it on an upload.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="data">The host data.</param>
    /// <returns>The same memory.</returns>
    public static Span<T> Unlocked<T>(ReadOnlySpan<T> data) =>
        System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data), data.Length);

    private static ArgumentException Foreign<T>(IComputeBackend backend, DeviceBuffer<T> buffer, string name)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new($"The buffer belongs to backend '{buffer.Backend.Name}', not to this {backend.Name} backend.", name);
}

/// <summary>Moves one run of an upload or download (see <see cref="Operands.Transfer{T, TBuffer}"/>).</summary>
/// <typeparam name="T">float or double.</typeparam>
/// <typeparam name="TBuffer">The backend's buffer type.</typeparam>
/// <param name="buffer">The buffer.</param>
/// <param name="row">The row of a strided view, or −1 for the whole (contiguous) buffer.</param>
/// <param name="host">The host memory of the run.</param>
/// <param name="upload">True for host → buffer.</param>
internal delegate void RunCopy<T, TBuffer>(TBuffer buffer, int row, Span<T> host, bool upload)
    where T : unmanaged, IFloatingPointIeee754<T>
    where TBuffer : DeviceBuffer<T>;
