using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// Forwards every call to another backend and records the largest number of elements held at once by the buffers it
/// handed out (live = allocated and not yet disposed; the peak is reached right after an allocation, where it is read),
/// the number of elements moved between host and backend, and the flops of the GEMMs. Views (<see cref="DeviceBuffer{T}.Slice"/>) come from the
/// inner backend's buffers and allocate nothing, so they are not counted. Every operation is forwarded, the ones with a
/// default implementation (<see cref="IComputeBackend.BlockSum{T}"/>) included, so the inner backend's own transfers are
/// not counted either.
/// </summary>
internal sealed class PeakTrackingBackend(IComputeBackend inner) : IComputeBackend
{
    private readonly List<(WeakReference Buffer, long Elements)> live = [];

    public long PeakElements { get; private set; }

    /// <summary>The floating-point operations of the GEMMs run so far, 2·m·n·k each.</summary>
    public double GemmFlops { get; private set; }

    /// <summary>Elements uploaded plus elements downloaded.</summary>
    public long TransferredElements { get; private set; }

    /// <summary>Uploads into and downloads from strided views: one transfer per row on a GPU backend.</summary>
    public int StridedTransfers { get; private set; }

    public string Name => inner.Name;

    public string Describe() => inner.Describe();

    public void Dispose()
    {
    }

    public DeviceBuffer<T> Allocate<T>(int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T> => Track(inner.Allocate<T>(rows, cols));

    public DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TransferredElements += data.Length;
        return Track(inner.Upload(data, rows, cols));
    }

    public void Upload<T>(ReadOnlySpan<T> data, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TransferredElements += data.Length;
        StridedTransfers += destination.IsContiguous ? 0 : 1;
        inner.Upload(data, destination);
    }

    public void Download<T>(DeviceBuffer<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TransferredElements += destination.Length;
        StridedTransfers += source.IsContiguous ? 0 : 1;
        inner.Download(source, destination);
    }

    public void Convert<TSource, TDestination>(DeviceBuffer<TSource> source, DeviceBuffer<TDestination> destination)
        where TSource : unmanaged, IFloatingPointIeee754<TSource>
        where TDestination : unmanaged, IFloatingPointIeee754<TDestination> => inner.Convert(source, destination);

    public void Gemm<T>(Transpose transA, Transpose transB, T alpha, DeviceBuffer<T> a, DeviceBuffer<T> b, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmFlops += 2.0 * c.Rows * c.Cols * (transA == Transpose.None ? a.Cols : a.Rows);
        inner.Gemm(transA, transB, alpha, a, b, beta, c);
    }

    public void Syrk<T>(Transpose trans, T alpha, DeviceBuffer<T> a, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.Syrk(trans, alpha, a, beta, c);

    public CholeskyReport CholeskyFactor<T>(DeviceBuffer<T> a, CholeskyOptions? options = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.CholeskyFactor(a, options, cancellationToken);

    public void CholeskySolve<T>(DeviceBuffer<T> factor, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.CholeskySolve(factor, b);

    public void SymmetricEigen<T>(DeviceBuffer<T> a, DeviceBuffer<T> eigenvalues, DeviceBuffer<T> eigenvectors)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.SymmetricEigen(a, eigenvalues, eigenvectors);

    public void KernelMatrix<T, TKernel>(in TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> result, DeviceBuffer<T>? derivativeWeights = null)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction => inner.KernelMatrix(kernel, x, z, metric, result, derivativeWeights);

    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.Copy(source, destination);

    public void Scale<T>(T alpha, DeviceBuffer<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.Scale(alpha, x);

    public void Axpy<T>(T alpha, DeviceBuffer<T> x, DeviceBuffer<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.Axpy(alpha, x, y);

    public void AddDiagonal<T>(DeviceBuffer<T> a, T value)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.AddDiagonal(a, value);

    public void Hadamard<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.Hadamard(a, b, c);

    public void ScaleColumns<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.ScaleColumns(a, v);

    public void ScaleRows<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.ScaleRows(a, v);

    public void BlockSum<T>(DeviceBuffer<T> a, int rowGroup, int colGroup, T scale, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.BlockSum(a, rowGroup, colGroup, scale, result);

    public void RowKronecker<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.RowKronecker(a, b, result);

    public void GatherColumns<T>(DeviceBuffer<T> source, ReadOnlySpan<int> columns, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.GatherColumns(source, columns, destination);

    public void RowDot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.RowDot(a, b, result);

    public double Dot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T> => inner.Dot(a, b);

    private DeviceBuffer<T> Track<T>(DeviceBuffer<T> buffer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        live.RemoveAll(e => IsDisposed(e.Buffer.Target));
        live.Add((new WeakReference(buffer), buffer.LongLength));
        PeakElements = Math.Max(PeakElements, live.Sum(e => e.Elements));
        return buffer;
    }

    private static bool IsDisposed(object? buffer) => buffer switch
    {
        DeviceBuffer<double> d => d.IsDisposed,
        DeviceBuffer<float> f => f.IsDisposed,
        _ => true,
    };
}
