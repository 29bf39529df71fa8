using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using FeatureLearning.Backends.Ilgpu.Cuda;
using FeatureLearning.Backends.Ilgpu.Device;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

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
/// <para>Kernel profiles (<see cref="LaplaceKernel"/> and the others, or any user-defined kernel struct) are compiled into
/// the kernel-matrix kernel, one specialization per kernel type and evaluated in double precision; a kernel that is a
/// class, or that ILGPU cannot compile, is evaluated on the host instead (correct but with a round trip). ILGPU's math
/// mode is left at its full-precision default: the 32-bit-only mode is never enabled.</para>
/// <para>The symmetric eigendecomposition (metric matrices, d × d) runs on the host. Threads: the backend may be shared
/// (as <see cref="ComputeBackends.Default"/> is by parallel fits). Every public operation holds the backend's lock while it
/// runs and binds the accelerator to the calling thread, so operations from several threads run one after the other on
/// the device's one queue, each with its own buffers; after <see cref="Dispose"/> every operation throws
/// <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
public sealed class IlgpuBackend : IComputeBackend
{
    private const int EpilogueHostBlock = 1 << 20;
    private readonly Context context;
    private readonly Accelerator accelerator;
    private readonly CudaLibraries? cuda;
    private readonly string cudaStatus;
    private readonly KernelSet<float> single;
    private readonly KernelSet<double> @double;
    private readonly Dictionary<(Type Type, long Length), Stack<MemoryBuffer>> pool = [];
    private readonly ConcurrentDictionary<(Type Element, Type Kernel), Delegate?> epilogueLaunchers = new();
    private readonly long poolBudget;
    private readonly (string Nvvm, string LibDevice)? libDevice;
    private long pooledBytes;
    private long bytesInUse;
    private long peakBytesInUse;
    private readonly Lock gate = new();
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
        var (kind, index) = ResolveDevice(options);

        // The CPU accelerator emulates groups of up to 256 threads (the GEMM's 16 × 16) on one simulated multiprocessor.
        // LibDevice (the CUDA SDK's math library, found through CUDA_PATH or /usr/local/cuda) gives the kernel profiles
        // NVIDIA's exp and sqrt on CUDA; without an SDK, ILGPU.Algorithms' portable math is used.
        libDevice = FindLibDevice();
        context = Context.Create(builder =>
        {
            builder.Cuda().OpenCL().CPU(new CPUDevice(4, 64, 1));
            if (libDevice is { } found)
            {
                builder.LibDevice(found.Nvvm, found.LibDevice);
            }

            builder.EnableAlgorithms().Math(MathMode.Default);
        });
        try
        {
            accelerator = CreateAccelerator(context, kind, index);
            accelerator.Bind();
            DeviceKind = accelerator.AcceleratorType switch
            {
                AcceleratorType.Cuda => IlgpuDevice.Cuda,
                AcceleratorType.OpenCL => IlgpuDevice.OpenCL,
                _ => IlgpuDevice.Cpu,
            };
            int strideThreads = DeviceKind == IlgpuDevice.Cpu ? 1024 : 1 << 20;
            single = new KernelSet<float, SingleOps>(accelerator, strideThreads);
            @double = new KernelSet<double, DoubleOps>(accelerator, strideThreads);
            poolBudget = options.BufferPoolBytes >= 0 ? options.BufferPoolBytes : accelerator.MemorySize / 4;
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
    public long BytesInUse => Interlocked.Read(ref bytesInUse);

    /// <summary>The largest <see cref="BytesInUse"/> since the backend was created or <see cref="ResetPeakBytesInUse"/> was called.</summary>
    public long PeakBytesInUse => Interlocked.Read(ref peakBytesInUse);

    /// <summary>Restarts <see cref="PeakBytesInUse"/> from the current <see cref="BytesInUse"/>, to measure one computation.</summary>
    public void ResetPeakBytesInUse() => Interlocked.Exchange(ref peakBytesInUse, BytesInUse);

    /// <summary>Whether GEMM, SYRK and the Cholesky steps run in cuBLAS and cuSOLVER (CUDA with the libraries found).</summary>
    public bool UsesCudaLibraries => cuda is not null;

    /// <summary>Lists the devices ILGPU sees here, one line each (kind, index, name, memory).</summary>
    /// <returns>The device descriptions.</returns>
    public static IReadOnlyList<string> ListDevices()
    {
        using var context = Context.Create(builder => builder.Cuda().OpenCL().CPU(new CPUDevice(4, 64, 1)));
        return context.Devices.Select((d, i) => $"{d.AcceleratorType} '{d.Name}', {d.MemorySize / (double)(1L << 30):F1} GiB").ToList();
    }

    /// <inheritdoc />
    public string Describe()
    {
        string memory = $"{accelerator.MemorySize / (double)(1L << 30):F1} GiB";
        string arch = accelerator is CudaAccelerator c ? $", {c.Architecture}, driver {c.DriverVersion}" : string.Empty;
        return $"ilgpu backend: {accelerator.AcceleratorType} device '{accelerator.Name}' ({memory}{arch}); BLAS/LAPACK: {cudaStatus}; "
            + $"kernel profiles on the device in double precision (ILGPU math mode Default, {(libDevice is null || DeviceKind != IlgpuDevice.Cuda ? "ILGPU.Algorithms math" : "CUDA libdevice math")}); buffer pool {poolBudget / (1 << 20)} MiB; precision single and double";
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
        lock (pool)
        {
            foreach (var stack in pool.Values)
            {
                foreach (var buffer in stack)
                {
                    buffer.Dispose();
                }
            }

            pool.Clear();
        }

        accelerator.Dispose();
        context.Dispose();
    }

    /// <inheritdoc />
    public void Synchronize()
    {
        using var exclusive = Enter();
        accelerator.Synchronize();
    }

    /// <inheritdoc />
    public DeviceBuffer<T> Allocate<T>(int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        using var exclusive = Enter();
        return new IlgpuBuffer<T>(this, rows, cols, Rent<T>(Math.Max(1, (long)rows * cols)));
    }

    /// <inheritdoc />
    public DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var buffer = Allocate<T>(rows, cols);
        Upload(data, buffer);
        return buffer;
    }

    /// <inheritdoc />
    public void Upload<T>(ReadOnlySpan<T> data, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = Own(destination, nameof(destination));
        Shapes.CheckHostLength(data.Length, d, upload: true, nameof(data));

        if (data.Length > 0)
        {
            using var exclusive = Enter();
            HostCopy.ToDevice(data, d.View);
        }
    }

    /// <inheritdoc />
    public void Download<T>(DeviceBuffer<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = Own(source, nameof(source));
        Shapes.CheckHostLength(destination.Length, s, upload: false, nameof(destination));

        if (destination.Length > 0)
        {
            using var exclusive = Enter();
            HostCopy.ToHost(s.View, destination);
        }
    }

    /// <inheritdoc />
    public void Gemm<T>(Transpose transA, Transpose transB, T alpha, DeviceBuffer<T> a, DeviceBuffer<T> b, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb, gc) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(c, nameof(c)));
        Shapes.CheckGemm(transA, transB, a, b, c, out int m, out int n, out int k);
        Shapes.CheckNoAlias(a, c, nameof(c));
        Shapes.CheckNoAlias(b, c, nameof(c));
        using var exclusive = Enter();
        GemmCore(transA == Transpose.Transpose, transB == Transpose.Transpose, m, n, k, alpha, ga, 0, a.Cols, gb, 0, b.Cols, beta, gc, 0, c.Cols, lowerOnly: false);
    }

    /// <inheritdoc />
    public void Syrk<T>(Transpose trans, T alpha, DeviceBuffer<T> a, T beta, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gc) = (Own(a, nameof(a)), Own(c, nameof(c)));
        Shapes.CheckSyrk(trans, a, c, out int n, out int k);
        bool t = trans == Transpose.Transpose;

        if (n == 0)
        {
            return;
        }

        using var exclusive = Enter();
        if (cuda is not null)
        {
            cuda.SyrkLower(t, n, k, alpha, ga.Pointer, a.Cols, beta, gc.Pointer, n);
        }
        else
        {
            GemmCore(t, !t, n, n, k, alpha, ga, 0, a.Cols, ga, 0, a.Cols, beta, gc, 0, n, lowerOnly: true);
        }

        Kernels<T>().MirrorLower(n, gc.View);
    }

    /// <inheritdoc />
    public CholeskyReport CholeskyFactor<T>(DeviceBuffer<T> a, CholeskyOptions? options = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ga = Own(a, nameof(a));
        Shapes.CheckSquare(a, nameof(a));
        options ??= CholeskyOptions.Default;
        options.Validate();
        int n = a.Rows;
        if (n == 0)
        {
            return new CholeskyReport(1, 0, -1);
        }

        using var exclusive = Enter();
        var kernels = Kernels<T>();
        using var diagonal = (IlgpuBuffer<T>)Allocate<T>(n, 1);
        kernels.ReadDiagonal(n, ga.View, diagonal.View);
        var host = new T[n];
        Download(diagonal, host);
        double mean = 0;
        foreach (var v in host)
        {
            mean += double.CreateTruncating(v);
        }

        mean /= n;
        using var info = accelerator.Allocate1D<int>(2);
        return CholeskyRetry.Run(
            n,
            mean,
            options.InitialJitterFor<T>(),
            options,
            () => FactorOnce(ga, n, info, cancellationToken),
            jitter => kernels.RestoreLower(n, ga.View, diagonal.View, T.CreateTruncating(jitter)),
            cancellationToken);
    }

    /// <inheritdoc />
    public void CholeskySolve<T>(DeviceBuffer<T> factor, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (gl, gb) = (Own(factor, nameof(factor)), Own(b, nameof(b)));
        Shapes.CheckCholeskySolve(factor, b);
        if (b.LongLength == 0)
        {
            return;
        }

        using var exclusive = Enter();
        int n = factor.Rows, c = b.Cols;
        if (cuda is not null)
        {
            cuda.CholeskySolve<T>(n, c, gl.Pointer, n, gb.Pointer, c);
            return;
        }

        var kernels = Kernels<T>();
        const int nb = Device.Kernels.CholeskyBlock;

        // Forward: L·Y = B, block row by block row, then the rows below are updated with one GEMM.
        for (int k0 = 0; k0 < n; k0 += nb)
        {
            int size = Math.Min(nb, n - k0), below = n - k0 - size;
            kernels.ForwardBlock(c, gl.View, gb.View, n, c, k0, size);
            if (below > 0)
            {
                GemmCore(false, false, below, c, size, -T.One, gl, ((long)(k0 + size) * n) + k0, n, gb, (long)k0 * c, c, T.One, gb, (long)(k0 + size) * c, c, lowerOnly: false);
            }
        }

        // Backward: Lᵀ·X = Y from the last block up; each block first subtracts L21ᵀ·X2 of the blocks below.
        int last = ((n - 1) / nb) * nb;
        for (int k0 = last; k0 >= 0; k0 -= nb)
        {
            int size = Math.Min(nb, n - k0), below = n - k0 - size;
            if (below > 0)
            {
                GemmCore(true, false, size, c, below, -T.One, gl, ((long)(k0 + size) * n) + k0, n, gb, (long)(k0 + size) * c, c, T.One, gb, (long)k0 * c, c, lowerOnly: false);
            }

            kernels.BackwardBlock(c, gl.View, gb.View, n, c, k0, size);
        }
    }

    /// <inheritdoc />
    /// <remarks>Runs on the host (MathNet.Numerics): it is meant for d × d metric matrices.</remarks>
    public void SymmetricEigen<T>(DeviceBuffer<T> a, DeviceBuffer<T> eigenvalues, DeviceBuffer<T> eigenvectors)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gv, gw) = (Own(a, nameof(a)), Own(eigenvalues, nameof(eigenvalues)), Own(eigenvectors, nameof(eigenvectors)));
        Shapes.CheckEigen(a, eigenvalues, eigenvectors);
        int n = a.Rows;

        var host = new T[n * n];
        Download(ga, host);
        var (values, vectors) = HostEigen.Decompose<T>(host, n);
        Upload<T>(values.Select(T.CreateTruncating).ToArray(), gv);
        Upload<T>(vectors.Select(T.CreateTruncating).ToArray(), gw);
    }

    /// <inheritdoc />
    public void KernelMatrix<T, TKernel>(in TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> result, DeviceBuffer<T>? derivativeWeights = null)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var (gx, gz, gr) = (Own(x, nameof(x)), Own(z, nameof(z)), Own(result, nameof(result)));
        var gw = derivativeWeights is null ? null : Own(derivativeWeights, nameof(derivativeWeights));
        var gm = metric is null ? null : Own(metric, nameof(metric));
        Shapes.CheckKernelMatrix(x, z, metric, result, derivativeWeights);
        int n = x.Rows, m = z.Rows, d = x.Cols;
        if (n == 0 || m == 0)
        {
            return;
        }

        using var exclusive = Enter();
        bool radial = kernel.Geometry == KernelGeometry.Radial;
        bool same = ReferenceEquals(x, z);
        var kernels = Kernels<T>();
        IlgpuBuffer<T>? xm = null, zm = null, xNorms = null, zNorms = null, xCentred = null, zCentred = null;
        try
        {
            if (radial)
            {
                // Shift-invariance: centre X and Z on the mean of Z, so ‖x‖² + ‖z‖² − 2xᵀMz does not cancel (KernelCentring).
                (xCentred, zCentred) = Centre(gx, gz, same, n, m, d);
                (gx, gz) = (xCentred, zCentred ?? xCentred);
            }

            // XM = X·M (or X with its columns scaled); G = XM·Zᵀ; norms x_iᵀMx_i and z_jᵀMz_j for radial kernels.
            xm = gm is null ? null : ApplyMetric(gx, gm);
            GemmCore(false, true, n, m, d, T.One, xm ?? gx, 0, d, gz, 0, d, T.Zero, gr, 0, m, lowerOnly: false);
            if (radial)
            {
                xNorms = (IlgpuBuffer<T>)Allocate<T>(n, 1);
                kernels.RowDot(n, (xm ?? gx).View, gx.View, xNorms.View, d);
                if (!same)
                {
                    zm = gm is null ? null : ApplyMetric(gz, gm);
                    zNorms = (IlgpuBuffer<T>)Allocate<T>(m, 1);
                    kernels.RowDot(m, (zm ?? gz).View, gz.View, zNorms.View, d);
                }

                KernelCentring.CheckNorms<T>(HostCopy.ToHostArray<T>(xNorms.View), nameof(x));
                if (zNorms is not null)
                {
                    KernelCentring.CheckNorms<T>(HostCopy.ToHostArray<T>(zNorms.View), nameof(z));
                }
            }

            var xn = xNorms ?? gr;
            var zn = (same ? xNorms : zNorms) ?? gr;
            double tolerance = typeof(T) == typeof(float) ? 64 * 1.1920929e-7 : 64 * 2.220446049250313e-16;
            if (kernel.GetType().IsValueType && TryDeviceEpilogue(kernel, kernels, n, m, gr, xn, zn, gw, radial, tolerance))
            {
                return;
            }

            // Host fallback: the statistic on the device, the profile on the host in blocks.
            kernels.KernelEpilogue(n, m, gr.View, xn.View, zn.View, (gw ?? gr).View, radial, withWeights: false, tolerance, default(RawStatistic));
            EvaluateOnHost(kernel, gr, gw);
        }
        finally
        {
            xm?.Dispose();
            zm?.Dispose();
            xNorms?.Dispose();
            zNorms?.Dispose();
            xCentred?.Dispose();
            zCentred?.Dispose();
        }
    }

    /// <summary>X − 1cᵀ and Z − 1cᵀ with c the column mean of Z, by two rank-1 GEMMs (Z's copy is null when X is Z).</summary>
    private (IlgpuBuffer<T> X, IlgpuBuffer<T>? Z) Centre<T>(IlgpuBuffer<T> x, IlgpuBuffer<T> z, bool same, int n, int m, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = Math.Max(n, m);
        var ones = new T[rows];
        Array.Fill(ones, T.One);
        using var onesBuffer = (IlgpuBuffer<T>)Upload<T>(ones, rows, 1);
        using var centre = (IlgpuBuffer<T>)Allocate<T>(1, d);
        GemmCore(true, false, 1, d, m, T.One / T.CreateTruncating(m), onesBuffer, 0, 1, z, 0, d, T.Zero, centre, 0, d, lowerOnly: false);

        IlgpuBuffer<T> Shifted(IlgpuBuffer<T> a, int count)
        {
            var shifted = (IlgpuBuffer<T>)Allocate<T>(count, d);
            shifted.View.CopyFrom(a.View);
            GemmCore(false, false, count, d, 1, -T.One, onesBuffer, 0, 1, centre, 0, d, T.One, shifted, 0, d, lowerOnly: false);
            return shifted;
        }

        var xc = Shifted(x, n);
        return (xc, same ? null : Shifted(z, m));
    }

    /// <inheritdoc />
    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (s, d) = (Own(source, nameof(source)), Own(destination, nameof(destination)));
        Shapes.CheckSameLength(source, destination, nameof(destination));
        if (s.LongLength > 0)
        {
            using var exclusive = Enter();
            d.View.CopyFrom(s.View);
        }
    }

    /// <inheritdoc />
    public void Scale<T>(T alpha, DeviceBuffer<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Own(x, nameof(x));
        if (g.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().Scale(g.View, alpha, alpha == T.Zero, g.LongLength);
        }
    }

    /// <inheritdoc />
    public void Axpy<T>(T alpha, DeviceBuffer<T> x, DeviceBuffer<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (gx, gy) = (Own(x, nameof(x)), Own(y, nameof(y)));
        Shapes.CheckSameShape(x, y, nameof(y));
        if (gx.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().Axpy(gx.View, gy.View, alpha, gx.LongLength);
        }
    }

    /// <inheritdoc />
    public void AddDiagonal<T>(DeviceBuffer<T> a, T value)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Own(a, nameof(a));
        Shapes.CheckSquare(a, nameof(a));
        if (a.Rows > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().AddDiagonal(a.Rows, g.View, value);
        }
    }

    /// <inheritdoc />
    public void Hadamard<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb, gc) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(c, nameof(c)));
        Shapes.CheckSameShape(a, b, nameof(b));
        Shapes.CheckSameShape(a, c, nameof(c));
        if (ga.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().Hadamard(ga.View, gb.View, gc.View, ga.LongLength);
        }
    }

    /// <inheritdoc />
    public void ScaleColumns<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gv) = (Own(a, nameof(a)), Own(v, nameof(v)));
        Shapes.CheckVector(v, a.Cols, nameof(v));
        if (ga.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().ScaleByVector(ga.View, gv.View, a.Cols, byRow: false, ga.LongLength);
        }
    }

    /// <inheritdoc />
    public void ScaleRows<T>(DeviceBuffer<T> a, DeviceBuffer<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gv) = (Own(a, nameof(a)), Own(v, nameof(v)));
        Shapes.CheckVector(v, a.Rows, nameof(v));
        if (ga.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().ScaleByVector(ga.View, gv.View, a.Cols, byRow: true, ga.LongLength);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// On the device, in two passes so that every thread has little serial work even when R is small: each row of A is
    /// summed over its column groups into a (A.Rows × R.Cols) scratch matrix, then each result element sums its
    /// rowGroup scratch rows.
    /// </remarks>
    public void BlockSum<T>(DeviceBuffer<T> a, int rowGroup, int colGroup, T scale, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gr) = (Own(a, nameof(a)), Own(result, nameof(result)));
        Shapes.CheckBlockSum(a, rowGroup, colGroup, result);
        if (gr.LongLength == 0)
        {
            return;
        }

        using var exclusive = Enter();
        if (rowGroup == 1)
        {
            Kernels<T>().BlockSum(ga.View, gr.View, result.Rows, result.Cols, a.Cols, 1, colGroup, scale);
            return;
        }

        using var rowSums = Allocate<T>(a.Rows, result.Cols);
        var gs = Own(rowSums, nameof(rowSums));
        Kernels<T>().BlockSum(ga.View, gs.View, a.Rows, result.Cols, a.Cols, 1, colGroup, T.One);
        Kernels<T>().BlockSum(gs.View, gr.View, result.Rows, result.Cols, result.Cols, rowGroup, 1, scale);
    }

    /// <inheritdoc />
    public void RowKronecker<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb, gr) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(result, nameof(result)));
        Shapes.CheckRowKronecker(a, b, result);
        if (gr.LongLength > 0)
        {
            using var exclusive = Enter();
            Kernels<T>().RowKronecker(ga.View, gb.View, gr.View, a.Cols, b.Cols, gr.LongLength);
        }
    }

    /// <inheritdoc />
    public void RowDot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb, gr) = (Own(a, nameof(a)), Own(b, nameof(b)), Own(result, nameof(result)));
        Shapes.CheckSameShape(a, b, nameof(b));
        Shapes.CheckVector(result, a.Rows, nameof(result));
        if (a.Rows > 0)
        {
            using var exclusive = Enter();
            if (a.Cols == 0)
            {
                Kernels<T>().Scale(gr.View, T.Zero, true, a.Rows);
                return;
            }

            Kernels<T>().RowDot(a.Rows, ga.View, gb.View, gr.View, a.Cols);
        }
    }

    /// <inheritdoc />
    public double Dot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ga, gb) = (Own(a, nameof(a)), Own(b, nameof(b)));
        Shapes.CheckSameShape(a, b, nameof(b));
        if (ga.LongLength == 0)
        {
            return 0;
        }

        using var exclusive = Enter();
        var kernels = Kernels<T>();
        int parts = (int)Math.Min(ga.LongLength, Math.Min(kernels.StrideThreads, 1 << 16));
        using var partials = accelerator.Allocate1D<double>(parts);
        kernels.DotPartials(ga.View, gb.View, partials.View, ga.LongLength);
        var host = HostCopy.ToHostArray(partials.View);
        double sum = 0;
        foreach (double p in host)
        {
            sum += p;
        }

        return sum;
    }

    /// <summary>Returns device memory to the pool (or frees it when the pool is full or the backend is disposed).</summary>
    internal void Return<T>(MemoryBuffer1D<T, Stride1D.Dense> memory)
        where T : unmanaged
    {
        Interlocked.Add(ref bytesInUse, -memory.LengthInBytes);
        lock (pool)
        {
            if (!disposed && pooledBytes + memory.LengthInBytes <= poolBudget)
            {
                var key = (typeof(T), memory.Length);
                if (!pool.TryGetValue(key, out var stack))
                {
                    pool[key] = stack = new Stack<MemoryBuffer>();
                }

                stack.Push(memory);
                pooledBytes += memory.LengthInBytes;
                return;
            }
        }

        using var exclusive = gate.EnterScope();
        if (!disposed)
        {
            memory.Dispose();
        }
    }

    /// <summary>
    /// The CUDA SDK's NVVM library and libdevice bitcode, if an SDK is installed (CUDA_PATH, CUDA_HOME, /usr/local/cuda,
    /// /usr/local/cuda-*); <c>FEATURELEARNING_LIBDEVICE=0</c> turns it off.
    /// </summary>
    private static (string Nvvm, string LibDevice)? FindLibDevice()
    {
        if (Environment.GetEnvironmentVariable("FEATURELEARNING_LIBDEVICE") == "0")
        {
            return null; // ILGPU.Algorithms' portable math everywhere (for comparisons)
        }

        var roots = new[] { Environment.GetEnvironmentVariable("CUDA_PATH"), Environment.GetEnvironmentVariable("CUDA_HOME"), "/usr/local/cuda" }
            .Where(r => !string.IsNullOrEmpty(r))
            .Concat(Directory.Exists("/usr/local") ? Directory.GetDirectories("/usr/local", "cuda-*").OrderDescending() : []);
        foreach (string? root in roots)
        {
            string nvvmDir = Path.Combine(root!, "nvvm", "lib64"), bitcodeDir = Path.Combine(root!, "nvvm", "libdevice");
            if (!Directory.Exists(nvvmDir) || !Directory.Exists(bitcodeDir))
            {
                continue;
            }

            string? nvvm = Directory.GetFiles(nvvmDir, "libnvvm.so*").Concat(Directory.GetFiles(nvvmDir, "nvvm64*.dll")).Order().FirstOrDefault();
            string? bitcode = Directory.GetFiles(bitcodeDir, "libdevice*.bc").Order().FirstOrDefault();
            if (nvvm is not null && bitcode is not null)
            {
                return (nvvm, bitcode);
            }
        }

        return null;
    }

    private static (IlgpuDevice Kind, int Index) ResolveDevice(IlgpuBackendOptions options)
    {
        if (options.Device != IlgpuDevice.Auto)
        {
            return (options.Device, options.DeviceIndex);
        }

        string? value = Environment.GetEnvironmentVariable(IlgpuBackendOptions.DeviceVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return (IlgpuDevice.Auto, options.DeviceIndex);
        }

        string[] parts = value.Trim().Split(':');
        var kind = parts[0].ToUpperInvariant() switch
        {
            "CUDA" => IlgpuDevice.Cuda,
            "OPENCL" => IlgpuDevice.OpenCL,
            "CPU" => IlgpuDevice.Cpu,
            "AUTO" => IlgpuDevice.Auto,
            _ => throw new InvalidOperationException($"{IlgpuBackendOptions.DeviceVariable}='{value}' is not a device: use cuda, opencl or cpu, optionally with :index."),
        };
        int index = options.DeviceIndex;
        if (parts.Length > 1 && (!int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out index) || index < 0))
        {
            throw new InvalidOperationException($"{IlgpuBackendOptions.DeviceVariable}='{value}': the device index must be a non-negative integer.");
        }

        return (kind, index);
    }

    private static Accelerator CreateAccelerator(Context context, IlgpuDevice kind, int index)
    {
        var cudaDevices = context.GetCudaDevices();
        var clDevices = context.GetCLDevices();
        switch (kind)
        {
            case IlgpuDevice.Cuda:
                return index < cudaDevices.Count ? cudaDevices[index].CreateAccelerator(context)
                    : throw new InvalidOperationException($"No CUDA device {index}: ILGPU found {cudaDevices.Count} (is the NVIDIA driver installed?). Devices here: {string.Join("; ", context.Devices.Select(d => $"{d.AcceleratorType} '{d.Name}'"))}.");
            case IlgpuDevice.OpenCL:
                return index < clDevices.Count ? clDevices[index].CreateAccelerator(context)
                    : throw new InvalidOperationException($"No OpenCL device {index}: ILGPU found {clDevices.Count} it supports (it needs OpenCL 2.0+ with the generic address space; Debian's PoCL 3.1 is refused).");
            case IlgpuDevice.Cpu:
                return context.GetCPUDevice(0).CreateAccelerator(context);
            default:
                if (cudaDevices.Count > index)
                {
                    return cudaDevices[index].CreateAccelerator(context);
                }

                return clDevices.Count > index ? clDevices[index].CreateAccelerator(context) : context.GetCPUDevice(0).CreateAccelerator(context);
        }
    }

    private int FactorOnce<T>(IlgpuBuffer<T> a, int n, MemoryBuffer1D<int, Stride1D.Dense> info, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernels = Kernels<T>();
        HostCopy.ToDevice<int>([-1, int.MaxValue], info.View);
        if (cuda is not null)
        {
            int lwork = cuda.PotrfWorkspace<T>(n, a.Pointer, n);
            var work = Rent<T>(Math.Max(1, lwork));
            try
            {
                cuda.Potrf<T>(n, a.Pointer, n, work.NativePtr, lwork, info.NativePtr);
            }
            finally
            {
                Return(work);
            }
        }
        else
        {
            const int nb = Device.Kernels.CholeskyBlock;
            for (int k0 = 0; k0 < n; k0 += nb)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int size = Math.Min(nb, n - k0), below = n - k0 - size;
                kernels.CholeskyDiagonal(a.View, info.View, n, k0, size);
                kernels.CholeskyPanel(a.View, n, n, k0, size);
                if (below > 0)
                {
                    long panel = ((long)(k0 + size) * n) + k0, trailing = ((long)(k0 + size) * n) + k0 + size;
                    GemmCore(false, true, below, below, size, -T.One, a, panel, n, a, panel, n, T.One, a, trailing, n, lowerOnly: true);
                }
            }
        }

        // NaN pivots pass some factorizations silently: check the diagonal of L as well.
        kernels.CheckDiagonal(n, a.View, info.View, n);
        var status = HostCopy.ToHostArray(info.View);
        if (cuda is not null)
        {
            // cuSOLVER's info is 1-based (0 = success).
            return status[0] > 0 ? status[0] - 1 : status[1] != int.MaxValue ? status[1] : -1;
        }

        return status[0] >= 0 ? status[0] : status[1] != int.MaxValue ? status[1] : -1;
    }

    private void GemmCore<T>(
        bool transA, bool transB, int m, int n, int k, T alpha, IlgpuBuffer<T> a, long aOffset, int lda, IlgpuBuffer<T> b, long bOffset, int ldb, T beta, IlgpuBuffer<T> c, long cOffset, int ldc, bool lowerOnly)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (cuda is not null && !lowerOnly)
        {
            cuda.Gemm(transA, transB, m, n, k, alpha, a.At(aOffset), lda, b.At(bOffset), ldb, beta, c.At(cOffset), ldc);
            return;
        }

        var args = new GemmArgs<T>
        {
            M = m,
            N = n,
            K = k,
            Lda = lda,
            Ldb = ldb,
            Ldc = ldc,
            AOffset = aOffset,
            BOffset = bOffset,
            COffset = cOffset,
            TransA = transA ? 1 : 0,
            TransB = transB ? 1 : 0,
            LowerOnly = lowerOnly ? 1 : 0,
            BetaIsZero = beta == T.Zero ? 1 : 0,
            Alpha = alpha,
            Beta = beta,
        };
        Kernels<T>().Gemm(a.View, b.View, c.View, args);
    }

    private IlgpuBuffer<T> ApplyMetric<T>(IlgpuBuffer<T> x, IlgpuBuffer<T> metric)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Rows, d = x.Cols;
        var xm = (IlgpuBuffer<T>)Allocate<T>(n, d);
        if (metric.Rows == d && metric.Cols == d && d > 1)
        {
            GemmCore(false, false, n, d, d, T.One, x, 0, d, metric, 0, d, T.Zero, xm, 0, d, lowerOnly: false);
        }
        else
        {
            xm.View.CopyFrom(x.View);
            Kernels<T>().ScaleByVector(xm.View, metric.View, d, byRow: false, xm.LongLength);
        }

        return xm;
    }

    /// <summary>
    /// Runs the device epilogue for the kernel's runtime type. The launcher is built once per (element, kernel) type and
    /// the kernel compiled then; a type ILGPU cannot compile is remembered and evaluated on the host (returns false).
    /// </summary>
    private bool TryDeviceEpilogue<T, TKernel>(TKernel kernel, KernelSet<T> kernels, int n, int m, IlgpuBuffer<T> g, IlgpuBuffer<T> xn, IlgpuBuffer<T> zn, IlgpuBuffer<T>? w, bool radial, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        var launcher = (EpilogueLauncher<T>?)epilogueLaunchers.GetOrAdd((typeof(T), kernel.GetType()), key =>
        {
            var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static;
            try
            {
                typeof(IlgpuBackend).GetMethod(nameof(LoadDeviceEpilogue), flags)!.MakeGenericMethod(key.Element, key.Kernel).Invoke(null, [kernels]);
            }
            catch (System.Reflection.TargetInvocationException)
            {
                return null; // ILGPU could not compile this kernel type for the device
            }

            return typeof(IlgpuBackend).GetMethod(nameof(DeviceEpilogue), flags)!.MakeGenericMethod(key.Element, key.Kernel).CreateDelegate<EpilogueLauncher<T>>();
        });
        if (launcher is null)
        {
            return false;
        }

        launcher(kernel, kernels, n, m, g, xn, zn, w, radial, tolerance);
        return true;
    }

    private static void LoadDeviceEpilogue<T, TKernel>(KernelSet<T> kernels)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IKernelFunction => kernels.LoadEpilogue<KernelProfile<TKernel>>();

    private static void DeviceEpilogue<T, TKernel>(object kernel, KernelSet<T> kernels, int n, int m, IlgpuBuffer<T> g, IlgpuBuffer<T> xn, IlgpuBuffer<T> zn, IlgpuBuffer<T>? w, bool radial, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IKernelFunction =>
        kernels.KernelEpilogue(n, m, g.View, xn.View, zn.View, (w ?? g).View, radial, w is not null, tolerance, new KernelProfile<TKernel>((TKernel)kernel));

    private void EvaluateOnHost<T, TKernel>(TKernel kernel, IlgpuBuffer<T> statistics, IlgpuBuffer<T>? weights)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        long length = statistics.LongLength;
        var u = new T[(int)Math.Min(length, EpilogueHostBlock)];
        var values = new T[u.Length];
        for (long start = 0; start < length; start += u.Length)
        {
            int count = (int)Math.Min(u.Length, length - start);
            var us = u.AsSpan(0, count);
            var vs = values.AsSpan(0, count);
            HostCopy.ToHost(statistics.View.SubView(start, count), us);
            kernel.Evaluate<T>(us, vs);
            HostCopy.ToDevice<T>(vs, statistics.View.SubView(start, count));
            if (weights is not null)
            {
                kernel.EvaluateDerivative<T>(us, vs, us);
                HostCopy.ToDevice<T>(us, weights.View.SubView(start, count));
            }
        }
    }

    /// <summary>Device memory of <paramref name="length"/> elements from the pool or the device; give it back with <see cref="Return{T}"/>.</summary>
    private MemoryBuffer1D<T, Stride1D.Dense> Rent<T>(long length)
        where T : unmanaged
    {
        var memory = Obtain<T>(length);
        long inUse = Interlocked.Add(ref bytesInUse, memory.LengthInBytes);
        long peak;
        while (inUse > (peak = Interlocked.Read(ref peakBytesInUse)) && Interlocked.CompareExchange(ref peakBytesInUse, inUse, peak) != peak)
        {
        }

        return memory;
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Obtain<T>(long length)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        lock (pool)
        {
            if (pool.TryGetValue((typeof(T), length), out var stack) && stack.Count > 0)
            {
                var pooled = stack.Pop();
                pooledBytes -= pooled.LengthInBytes;
                return (MemoryBuffer1D<T, Stride1D.Dense>)pooled;
            }
        }

        long bytes = length * Marshal.SizeOf<T>();
        if (bytes > accelerator.MemorySize)
        {
            throw new DeviceOutOfMemoryException(accelerator.Name, bytes, FreeMemory(), accelerator.MemorySize, null);
        }

        try
        {
            return accelerator.Allocate1D<T>(length);
        }
        catch (Exception first) when (first is OutOfMemoryException or AcceleratorException)
        {
            ClearPool();
            try
            {
                return accelerator.Allocate1D<T>(length);
            }
            catch (Exception second) when (second is OutOfMemoryException or AcceleratorException)
            {
                throw new DeviceOutOfMemoryException(accelerator.Name, bytes, FreeMemory(), accelerator.MemorySize, second);
            }
        }
    }

    private void ClearPool()
    {
        lock (pool)
        {
            foreach (var stack in pool.Values)
            {
                while (stack.Count > 0)
                {
                    stack.Pop().Dispose();
                }
            }

            pool.Clear();
            pooledBytes = 0;
        }
    }

    private long FreeMemory()
    {
        try
        {
            return accelerator is CudaAccelerator c ? c.GetFreeMemory() : -1;
        }
        catch (AcceleratorException)
        {
            return -1;
        }
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
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is not IlgpuBuffer<T> mine || !ReferenceEquals(buffer.Backend, this))
        {
            throw new ArgumentException($"The buffer belongs to backend '{buffer.Backend.Name}', not to this {Name} backend.", name);
        }

        ObjectDisposedException.ThrowIf(buffer.IsDisposed, buffer);
        return mine;
    }
}

/// <summary>Launches the device epilogue for one kernel type (built once per type by reflection, then called directly).</summary>
internal delegate void EpilogueLauncher<T>(object kernel, KernelSet<T> kernels, int n, int m, IlgpuBuffer<T> g, IlgpuBuffer<T> xn, IlgpuBuffer<T> zn, IlgpuBuffer<T>? w, bool radial, double tolerance)
    where T : unmanaged, IFloatingPointIeee754<T>;
