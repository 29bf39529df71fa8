using System.Numerics;

namespace FeatureLearning.Compute;

/// <summary>
/// The prologue and the staging of <see cref="IComputeBackend.KernelMatrix{T, TKernel}"/>, written once for every backend:
/// ownership and shape checks of all five buffers, then a contiguous stand-in for each strided view (a pooled buffer of the
/// backend, with the block copied in for X, Z and the metric), so the fused kernel-matrix code only ever sees contiguous
/// storage; <see cref="Finish"/> copies the staged outputs (K and W) back into their views, <see cref="Dispose"/> returns
/// the stand-ins to the pool.
/// </summary>
/// <remarks>
/// Staging costs one copy of each strided operand (O(nd + md + nm)) next to the O(nmd) of the kernel matrix. A strided
/// X passed as Z too (the same object) is staged once, so the symmetric case still sees X and Z as one buffer.
/// </remarks>
/// <typeparam name="T">float or double.</typeparam>
/// <typeparam name="TBuffer">The backend's buffer type.</typeparam>
internal sealed class KernelMatrixOperands<T, TBuffer> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
    where TBuffer : DeviceBuffer<T>
{
    private readonly IComputeBackend backend;
    private readonly List<(DeviceBuffer<T> View, DeviceBuffer<T> Stand, bool Output)> staged = [];

    private KernelMatrixOperands(IComputeBackend backend) => this.backend = backend;

    /// <summary>X (contiguous).</summary>
    public TBuffer X { get; private set; } = null!;

    /// <summary>Z (contiguous; the same object as <see cref="X"/> when the caller passed one buffer for both).</summary>
    public TBuffer Z { get; private set; } = null!;

    /// <summary>The metric (contiguous), or null.</summary>
    public TBuffer? Metric { get; private set; }

    /// <summary>K (contiguous).</summary>
    public TBuffer Result { get; private set; } = null!;

    /// <summary>W (contiguous), or null.</summary>
    public TBuffer? Weights { get; private set; }

    /// <summary>Whether Z is X (the symmetric kernel matrix K(X, X)).</summary>
    /// <summary>The kernel as an <see cref="Kernels.INormDependentKernel"/> when its geometry is the inner product and the norms; otherwise null.</summary>
    public Kernels.INormDependentKernel? NormKernel { get; private init; }

    public bool Same => ReferenceEquals(X, Z);

    /// <summary>Whether the kernel matrix has no element (n = 0 or m = 0): nothing to compute.</summary>
    public bool Empty => X.Rows == 0 || Z.Rows == 0;

    /// <summary>
    /// The whole public operation of a backend: checks and stages the arguments, runs <paramref name="body"/> on the
    /// contiguous operands unless the kernel matrix is empty, copies the staged outputs back and releases the stand-ins.
    /// </summary>
    /// <typeparam name="TKernel">The kernel type.</typeparam>
    /// <param name="backend">The backend running the operation.</param>
    /// <param name="own">The backend's ownership check.</param>
    /// <param name="kernel">The kernel.</param>
    /// <param name="x">X.</param>
    /// <param name="z">Z.</param>
    /// <param name="metric">The metric or null.</param>
    /// <param name="result">K.</param>
    /// <param name="derivativeWeights">W or null.</param>
    /// <param name="body">The backend's kernel matrix on contiguous operands.</param>
    public static void Run<TKernel>(
        IComputeBackend backend, Func<DeviceBuffer<T>, string, TBuffer> own, TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> result, DeviceBuffer<T>? derivativeWeights, Action<TKernel, KernelMatrixOperands<T, TBuffer>> body)
    {
        using var operands = Prepare(backend, own, kernel!, x, z, metric, result, derivativeWeights);
        if (!operands.Empty)
        {
            body(kernel, operands);
            operands.Finish();
        }
    }

    /// <summary>Checks the arguments and stages the strided ones.</summary>
    /// <param name="backend">The backend running the operation.</param>
    /// <param name="own">The backend's ownership check (<see cref="Operands.Own{T, TBuffer}"/> plus its own state).</param>
    /// <param name="kernel">The kernel (checked for null).</param>
    /// <param name="x">X.</param>
    /// <param name="z">Z.</param>
    /// <param name="metric">The metric or null.</param>
    /// <param name="result">K.</param>
    /// <param name="derivativeWeights">W or null.</param>
    /// <returns>The contiguous operands; dispose them after the operation.</returns>
    public static KernelMatrixOperands<T, TBuffer> Prepare(
        IComputeBackend backend, Func<DeviceBuffer<T>, string, TBuffer> own, object kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> result, DeviceBuffer<T>? derivativeWeights)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        (_, _, _) = (own(x, nameof(x)), own(z, nameof(z)), own(result, nameof(result)));
        _ = derivativeWeights is null ? null : own(derivativeWeights, nameof(derivativeWeights));
        _ = metric is null ? null : own(metric, nameof(metric));
        var normKernel = kernel is Kernels.IKernelFunction { Geometry: Kernels.KernelGeometry.InnerProductAndNorms } k
            ? Kernels.KernelFunctionExtensions.NormDependent(k, nameof(kernel))
            : null;
        Shapes.CheckKernelMatrix(x, z, metric, result, derivativeWeights, normKernel is not null);

        var operands = new KernelMatrixOperands<T, TBuffer>(backend) { NormKernel = normKernel };
        try
        {
            operands.X = (TBuffer)operands.Stage(x, output: false);
            operands.Z = (TBuffer)operands.Stage(z, output: false);
            operands.Metric = metric is null ? null : (TBuffer)operands.Stage(metric, output: false);
            operands.Result = (TBuffer)operands.Stage(result, output: true);
            operands.Weights = derivativeWeights is null ? null : (TBuffer)operands.Stage(derivativeWeights, output: true);
            return operands;
        }
        catch
        {
            operands.Dispose();
            throw;
        }
    }

    /// <summary>Copies the staged outputs back into the caller's views (call it after the kernel matrix succeeded).</summary>
    public void Finish()
    {
        foreach (var (view, stand, output) in staged)
        {
            if (output)
            {
                backend.Copy(stand, view);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, stand, _) in staged)
        {
            stand.Dispose();
        }

        staged.Clear();
    }

    private DeviceBuffer<T> Stage(DeviceBuffer<T> buffer, bool output)
    {
        if (buffer.IsContiguous)
        {
            return buffer;
        }

        foreach (var (view, stand, _) in staged)
        {
            if (ReferenceEquals(view, buffer))
            {
                return stand;
            }
        }

        var copy = backend.Allocate<T>(buffer.Rows, buffer.Cols);
        staged.Add((buffer, copy, output));
        if (!output)
        {
            backend.Copy(buffer, copy);
        }

        return copy;
    }
}
