using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>
/// Copies between host spans and device views with the host memory pinned for the whole copy. ILGPU's
/// <c>CopyFromCPU(ref T, long)</c> and <c>CopyToCPU(ref T, long)</c> wrap the raw address in a buffer object before
/// copying; a garbage collection in between moves an unpinned array, and the copy then reads or writes freed memory
/// (all-zero downloads, wrong uploads and segmentation faults were observed). Every host transfer of the backend goes
/// through here.
/// </summary>
internal static unsafe class HostCopy
{
    /// <summary>Copies <paramref name="source"/> into the first elements of <paramref name="destination"/>.</summary>
    public static void ToDevice<T>(DeviceClock clock, ReadOnlySpan<T> source, ArrayView1D<T, Stride1D.Dense> destination)
        where T : unmanaged
    {
        if (source.IsEmpty)
        {
            return;
        }

        using var transfer = clock.Transfer((long)source.Length * sizeof(T));
        fixed (T* p = source)
        {
            destination.SubView(0, source.Length).CopyFromCPU(ref Unsafe.AsRef<T>(p), source.Length);
        }
    }

    /// <summary>Copies the first <c>destination.Length</c> elements of <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static void ToHost<T>(DeviceClock clock, ArrayView1D<T, Stride1D.Dense> source, Span<T> destination)
        where T : unmanaged
    {
        if (destination.IsEmpty)
        {
            return;
        }

        using var transfer = clock.Transfer((long)destination.Length * sizeof(T));
        fixed (T* p = destination)
        {
            source.SubView(0, destination.Length).CopyToCPU(ref Unsafe.AsRef<T>(p), destination.Length);
        }
    }

    /// <summary>The whole of <paramref name="source"/> as a new host array.</summary>
    public static T[] ToHostArray<T>(DeviceClock clock, ArrayView1D<T, Stride1D.Dense> source)
        where T : unmanaged
    {
        var host = new T[source.Length];
        ToHost(clock, source, host);
        return host;
    }
}
