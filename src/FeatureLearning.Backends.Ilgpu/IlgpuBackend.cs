using System.Numerics;
using FeatureLearning.Backends.Ilgpu.Cuda;
using FeatureLearning.Backends.Ilgpu.Device;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>
/// The GPU backend: device buffers and kernels through ILGPU on CUDA, OpenCL or ILGPU's CPU accelerator. On CUDA, GEMM,
/// SYRK, the Cholesky factorization and the triangular solves go to cuBLAS and cuSOLVER (loaded at run time, CUDA 11–13);
/// elsewhere, and for everything else, the backend's own ILGPU kernels run: a tiled shared-memory GEMM, a blocked
/// right-looking Cholesky, blocked triangular solves, the fused kernel matrix and the element-wise primitives.
/// </summary>
/// <remarks>
/// <para>Data stays on the device: algorithms upload X once and keep the kernel matrix, the coefficients and the metric in
/// device buffers across iterations; only small results (the d × d AGOP, metrics) are read back. Buffers are pooled by
/// size; a failed allocation empties the pool, retries, and then throws <see cref="DeviceOutOfMemoryException"/>.</para>
/// <para>Kernel profiles (<see cref="LaplaceKernel"/> and the others, or a user-defined kernel struct that implements
/// <see cref="IKernelFunction.Accept"/>) are compiled into the kernel-matrix kernel, one specialization per kernel type and
/// evaluated in double precision; the kernel's type reaches the device code through <see cref="IKernelVisitor"/>, without
/// reflection. A kernel that is a class, that keeps the default <see cref="IKernelFunction.Accept"/>, or that ILGPU cannot
/// compile, is evaluated on the host instead (correct but with a round trip). ILGPU's math mode is left at its
/// full-precision default: the 32-bit-only mode is never enabled.</para>
/// <para>The symmetric eigendecomposition (metric matrices, d × d) runs on the host. Threads: the backend may be shared
/// (as <see cref="ComputeBackends.Default"/> is by parallel fits). Every public operation holds the backend's lock while it
/// runs and binds the accelerator to the calling thread, so operations from several threads run one after the other on
/// the device's one queue, each with its own buffers; after <see cref="Dispose"/> every operation throws
/// <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
// Split by job: device discovery and selection (DeviceSelection) and the pooled device memory (DeviceMemoryPool) are
// collaborators; the operations live in partial files IlgpuBackend.*.cs (buffers, BLAS, LAPACK, kernel matrix with its
// DeviceEpilogue visitor, element-wise).
public sealed partial class IlgpuBackend : IComputeBackend
{
    private readonly Context context;
    private readonly Accelerator accelerator;
    private readonly CudaLibraries? cuda;
    private readonly string cudaStatus;
    private readonly KernelSet<float> single;
    private readonly KernelSet<double> @double;
    private readonly DeviceMemoryPool pool;
    private readonly (string Nvvm, string LibDevice)? libDevice;
    private readonly Lock gate = new();
    private readonly DeviceClock clock;
    private long hostEpilogues;
    private volatile bool disposed;

    /// <summary>Creates the backend on the device the environment or the defaults choose (see <see cref="IlgpuBackendOptions.Device"/>).</summary>
    /// <exception cref="InvalidOperationException">No device of the requested kind exists.</exception>
    public IlgpuBackend()
        : this(new IlgpuBackendOptions())
    {
    }

    /// <summary>Creates the backend.</summary>
    /// <param name="options">Device choice, vendor libraries and pooling.</param>
    /// <exception cref="InvalidOperationException">No device of the requested kind exists.</exception>
    public IlgpuBackend(IlgpuBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (kind, index) = DeviceSelection.Resolve(options);

        // LibDevice (the CUDA SDK's math library, found through CUDA_PATH or /usr/local/cuda) gives the kernel profiles
        // NVIDIA's exp and sqrt on CUDA; without an SDK, ILGPU.Algorithms' portable math is used.
        libDevice = DeviceSelection.FindLibDevice();
        context = Context.Create(builder =>
        {
            DeviceSelection.AddDevices(builder);
            if (libDevice is { } found)
            {
                builder.LibDevice(found.Nvvm, found.LibDevice);
            }

            builder.EnableAlgorithms().Math(MathMode.Default);
        });
        try
        {
            accelerator = DeviceSelection.CreateAccelerator(context, kind, index);
            accelerator.Bind();
            DeviceKind = DeviceSelection.KindOf(accelerator);
            clock = new DeviceClock(accelerator);
            int strideThreads = DeviceKind == IlgpuDevice.Cpu ? 1024 : 1 << 20;
            single = new KernelSet<float, SingleOps>(accelerator, clock, strideThreads);
            @double = new KernelSet<double, DoubleOps>(accelerator, clock, strideThreads);
            pool = new DeviceMemoryPool(accelerator, options.BufferPoolBytes >= 0 ? options.BufferPoolBytes : accelerator.MemorySize / 4);
            cudaStatus = "portable ILGPU kernels";
            if (DeviceKind == IlgpuDevice.Cuda)
            {
                if (!options.UseCudaLibraries)
                {
                    cudaStatus = "portable ILGPU kernels (cuBLAS/cuSOLVER turned off in the options)";
                }
                else if (CudaLibraries.TryLoad(options.CudaLibraryDirectory, ((CudaStream)accelerator.DefaultStream).StreamPtr, out cuda, out string reason))
                {
                    cudaStatus = $"cuBLAS ({Path.GetFileName(cuda!.CublasName)}) and cuSOLVER ({Path.GetFileName(cuda.CusolverName)})";
                }
                else
                {
                    cudaStatus = $"portable ILGPU kernels ({reason})";
                }
            }
        }
        catch
        {
            accelerator?.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string Name => "ilgpu";

    /// <summary>The kind of device the backend runs on.</summary>
    public IlgpuDevice DeviceKind { get; }

    /// <summary>The device's name as the driver reports it.</summary>
    public string DeviceName => accelerator.Name;

    /// <summary>The device's memory in bytes.</summary>
    public long DeviceMemoryBytes => accelerator.MemorySize;

    /// <summary>Bytes of device memory held by live buffers and workspaces of this backend (not counting the reuse pool).</summary>
    public long BytesInUse => pool.BytesInUse;

    /// <summary>The largest <see cref="BytesInUse"/> since the backend was created or <see cref="ResetPeakBytesInUse"/> was called.</summary>
    public long PeakBytesInUse => pool.PeakBytesInUse;

    /// <summary>Restarts <see cref="PeakBytesInUse"/> from the current <see cref="BytesInUse"/>, to measure one computation.</summary>
    public void ResetPeakBytesInUse() => pool.ResetPeak();

    /// <summary>
    /// Where the backend's time went since it was created or <see cref="ResetTimings"/> was called: kernel compilation,
    /// launches and library calls, host-device copies and, with <see cref="SplitTimings"/>, the wait for the device.
    /// </summary>
    public IlgpuTimings Timings => clock.Snapshot();

    /// <summary>
    /// Whether every launch and library call is followed by a synchronization and every copy preceded by one, so that
    /// <see cref="Timings"/> splits the time into compilation, launches, compute and transfers (default false; turning it
    /// on removes the overlap of host and device work, so use it to see where time goes, not to time a run).
    /// </summary>
    public bool SplitTimings
    {
        get => clock.SplitTimings;
        set => clock.SplitTimings = value;
    }

    /// <summary>Sets every counter of <see cref="Timings"/> to zero.</summary>
    public void ResetTimings() => clock.Reset();

    /// <summary>Whether GEMM, SYRK and the Cholesky steps run in cuBLAS and cuSOLVER (CUDA with the libraries found).</summary>
    public bool UsesCudaLibraries => cuda is not null;

    /// <summary>Lists the devices ILGPU sees here, one line each (kind, index, name, memory).</summary>
    /// <returns>The device descriptions.</returns>
    public static IReadOnlyList<string> ListDevices() => DeviceSelection.List();

    /// <inheritdoc />
    public string Describe()
    {
        string memory = $"{accelerator.MemorySize / (double)(1L << 30):F1} GiB";
        string arch = accelerator is CudaAccelerator c ? $", {c.Architecture}, driver {c.DriverVersion}" : string.Empty;
        return $"ilgpu backend: {accelerator.AcceleratorType} device '{accelerator.Name}' ({memory}{arch}); BLAS/LAPACK: {cudaStatus}; "
            + $"kernel profiles on the device in double precision (ILGPU math mode Default, {(libDevice is null || DeviceKind != IlgpuDevice.Cuda ? "ILGPU.Algorithms math" : "CUDA libdevice math")}); buffer pool {pool.BudgetBytes / (1 << 20)} MiB; precision single and double";
    }

    /// <inheritdoc />
    public override string ToString() => Describe();

    /// <inheritdoc />
    public void Dispose()
    {
        using var exclusive = gate.EnterScope();
        if (disposed)
        {
            return;
        }

        disposed = true;
        cuda?.Dispose();
        pool.Close();
        accelerator.Dispose();
        context.Dispose();
    }

    /// <inheritdoc />
    public void Synchronize()
    {
        using var exclusive = Enter();
        accelerator.Synchronize();
    }

    /// <summary>Returns device memory to the pool (or frees it when the pool is full or the backend is disposed).</summary>
    internal void Return<T>(MemoryBuffer1D<T, Stride1D.Dense> memory)
        where T : unmanaged
    {
        if (pool.TryKeep(memory))
        {
            return;
        }

        using var exclusive = gate.EnterScope();
        if (!disposed)
        {
            memory.Dispose();
        }
    }

    /// <summary>Device memory of <paramref name="length"/> elements from the pool or the device; give it back with <see cref="Return{T}"/>.</summary>
    private MemoryBuffer1D<T, Stride1D.Dense> Rent<T>(long length)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return pool.Rent<T>(length);
    }

    /// <summary>
    /// Takes the backend's lock (reentrant: operations call one another) and binds the accelerator to the calling thread;
    /// every public operation holds it until it returns, so operations from several threads run one after the other.
    /// </summary>
    private Lock.Scope Enter()
    {
        var scope = gate.EnterScope();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            accelerator.Bind();
            return scope;
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }

    private KernelSet<T> Kernels<T>()
        where T : unmanaged => typeof(T) == typeof(double) ? (KernelSet<T>)(object)@double : (KernelSet<T>)(object)single;

    private IlgpuBuffer<T> Own<T>(DeviceBuffer<T> buffer, string name)
        where T : unmanaged, IFloatingPointIeee754<T> => Operands.Own<T, IlgpuBuffer<T>>(this, buffer, name);
}
