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
    /// <param name="strided">Whether the operation accepts a strided view (<see cref="DeviceBuffer{T}.IsContiguous"/> false) for this argument.</param>
    /// <returns>The buffer as <typeparamref name="TBuffer"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentException">The buffer belongs to another backend, or is a strided view the operation does not take.</exception>
    /// <exception cref="ObjectDisposedException">The buffer (or the parent of a view) has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TBuffer Own<T, TBuffer>(IComputeBackend backend, DeviceBuffer<T> buffer, string name, bool strided = false)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TBuffer : DeviceBuffer<T>
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is not TBuffer mine || !ReferenceEquals(buffer.Backend, backend))
        {
            throw Foreign(backend, buffer, name);
        }

        ObjectDisposedException.ThrowIf(buffer.IsDisposed, buffer);
        if (!strided && !buffer.IsContiguous)
        {
            throw Strided(buffer, name);
        }

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

    private static ArgumentException Strided<T>(DeviceBuffer<T> buffer, string name)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new($"The argument is a strided view ({buffer.Rows} x {buffer.Cols} with leading dimension {buffer.LeadingDimension}); this operation needs contiguous storage. Copy the block into a buffer first (Copy, Gemm, Syrk, Scale, Axpy, Upload and Download take strided views, ScaleRows and ScaleColumns a strided vector).", name);

    private static ArgumentException Foreign<T>(IComputeBackend backend, DeviceBuffer<T> buffer, string name)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new($"The buffer belongs to backend '{buffer.Backend.Name}', not to this {backend.Name} backend.", name);
}
