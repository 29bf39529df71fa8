using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu.Device;

/// <summary>The device kernels of one element type, loaded (compiled for the accelerator) on first use.</summary>
/// <typeparam name="T">float or double.</typeparam>
internal abstract class KernelSet<T>
    where T : unmanaged
{
    /// <summary>Threads of a grid-stride element-wise launch (capped so huge buffers loop instead of launching billions of threads).</summary>
    public abstract int StrideThreads { get; }

    public abstract void Gemm(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, GemmArgs<T> args);

    public abstract void CholeskyDiagonal(ArrayView<T> a, ArrayView<int> info, int lda, int k0, int nb);

    public abstract void CholeskyPanel(ArrayView<T> a, int n, int lda, int k0, int nb);

    public abstract void ForwardBlock(int columns, ArrayView<T> l, ArrayView<T> b, int ldl, int ldb, int k0, int nb);

    public abstract void BackwardBlock(int columns, ArrayView<T> l, ArrayView<T> b, int ldl, int ldb, int k0, int nb);

    public abstract void CheckDiagonal(int n, ArrayView<T> a, ArrayView<int> info, int lda);

    public abstract void RestoreLower(int n, ArrayView<T> a, int lda, ArrayView<T> diagonal, T jitter);

    public abstract void MirrorLower(int n, ArrayView<T> a, int lda);

    public abstract void ReadDiagonal(int n, ArrayView<T> a, int lda, ArrayView<T> diagonal);

    public abstract void Scale(ArrayView<T> x, T alpha, bool zero, long length);

    public abstract void Axpy(ArrayView<T> x, ArrayView<T> y, T alpha, long length);

    /// <summary>A block operation on rows × cols elements with row strides (see <see cref="Kernels.Strided{T, TOps}"/> for the modes).</summary>
    public abstract void Strided(int rows, int cols, ArrayView<T> x, int ldx, ArrayView<T> y, int ldy, T alpha, int mode);

    public abstract void Hadamard(int rows, int cols, ArrayView<T> a, int lda, ArrayView<T> b, int ldb, ArrayView<T> c, int ldc);

    public abstract void ScaleByVector(ArrayView<T> a, int rows, int cols, int lda, ArrayView<T> v, int vStride, bool byRow);

    public abstract void AddDiagonal(int n, ArrayView<T> a, int lda, T value);

    public abstract void BlockSum(ArrayView<T> a, int lda, ArrayView<T> result, int ldr, int rows, int cols, int rowGroup, int colGroup, T scale);

    public abstract void RowKronecker(int rows, ArrayView<T> a, int c, int lda, ArrayView<T> b, int d, int ldb, ArrayView<T> r, int ldr);

    public abstract void BatchedRidgeSolve(int count, ArrayView<T> p, ArrayView<T> factors, ArrayView<T> b, ArrayView<int> layout, ArrayView<long> offsets, ArrayView<int> status, int ldp, T ridge);

    public abstract void GatherColumns(int rows, ArrayView<T> a, int lda, ArrayView<int> columns, int width, ArrayView<T> d, int ldd);

    public abstract void RowDot(int rows, int cols, ArrayView<T> a, int lda, ArrayView<T> b, int ldb, ArrayView<T> r, int rStride);

    public abstract void DotPartials(int rows, int cols, ArrayView<T> a, int lda, ArrayView<T> b, int ldb, ArrayView<double> partials);

    /// <summary>
    /// Compiles the kernel-matrix epilogue for <typeparamref name="TProfile"/> once; later calls return at once. A profile
    /// ILGPU cannot compile for this accelerator is remembered, and false returned for it from then on.
    /// </summary>
    /// <returns>Whether the epilogue is compiled and <see cref="KernelEpilogue{TProfile}"/> may be called.</returns>
    public abstract bool TryLoadEpilogue<TProfile>()
        where TProfile : struct, IDeviceProfile;

    /// <summary>The kernel-matrix epilogue specialized for <typeparamref name="TProfile"/> (compiled once per profile type; for a profile of a kernel, after <see cref="TryLoadEpilogue{TProfile}"/> returned true).</summary>
    public abstract void KernelEpilogue<TProfile>(int n, int m, ArrayView<T> g, ArrayView<T> xNorms, ArrayView<T> zNorms, ArrayView<T> weights, bool radial, bool withWeights, double tolerance, TProfile profile)
        where TProfile : struct, IDeviceProfile;
}

/// <summary>The kernels for the element type <typeparamref name="T"/> with arithmetic <typeparamref name="TOps"/>.</summary>
/// <typeparam name="T">float or double.</typeparam>
/// <typeparam name="TOps">The matching <see cref="IScalarOps{T}"/>.</typeparam>
internal sealed class KernelSet<T, TOps> : KernelSet<T>
    where T : unmanaged
    where TOps : struct, IScalarOps<T>
{
    private readonly Accelerator accelerator;
    private readonly Lazy<Action<KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, GemmArgs<T>>> gemm;
    private readonly Lazy<Action<KernelConfig, ArrayView<T>, ArrayView<int>, int, int, int>> cholDiag;
    private readonly Lazy<Action<KernelConfig, ArrayView<T>, int, int, int, int>> cholPanel;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int>> forward;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int>> backward;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<int>, int>> checkDiagonal;
    private readonly Lazy<Action<Index2D, ArrayView<T>, ArrayView<T>, int, T>> restoreLower;
    private readonly Lazy<Action<Index2D, ArrayView<T>, int>> mirrorLower;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, int>> readDiagonal;
    private readonly Lazy<Action<Index1D, ArrayView<T>, T, int, long, int>> scale;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, T, long, int>> axpy;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, long, int>> hadamard;
    private readonly Lazy<Action<Index2D, ArrayView<T>, ArrayView<T>, int, int, T, int>> strided;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, long, int, int>> scaleByVector;
    private readonly Lazy<Action<Index1D, ArrayView<T>, int, T>> addDiagonal;
    private readonly Lazy<Action<Index2D, ArrayView<T>, ArrayView<T>, int, int, int, int, T>> blockSum;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, int, long, int>> rowKronecker;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, int, int, int, long, int>> gatherColumns;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int>> rowDot;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, int, int, long, int>> dotPartials;
    private readonly Lazy<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, ArrayView<long>, ArrayView<int>, int, int, T>> batchedRidgeSolve;
    private readonly ConcurrentDictionary<Type, Delegate?> epilogues = new();

    private readonly DeviceClock clock;

    public KernelSet(Accelerator accelerator, DeviceClock clock, int strideThreads)
    {
        this.accelerator = accelerator;
        this.clock = clock;
        StrideThreads = strideThreads;
        gemm = new(() => clock.Compile(() => accelerator.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, GemmArgs<T>>(Kernels.Gemm<T, TOps>)));
        cholDiag = new(() => clock.Compile(() => accelerator.LoadStreamKernel<ArrayView<T>, ArrayView<int>, int, int, int>(Kernels.CholeskyDiagonal<T, TOps>)));
        cholPanel = new(() => clock.Compile(() => accelerator.LoadStreamKernel<ArrayView<T>, int, int, int, int>(Kernels.CholeskyPanel<T, TOps>)));
        forward = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int>(Kernels.ForwardBlock<T, TOps>)));
        backward = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int>(Kernels.BackwardBlock<T, TOps>)));
        checkDiagonal = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<int>, int>(Kernels.CheckDiagonal<T, TOps>)));
        restoreLower = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<T>, ArrayView<T>, int, T>(Kernels.RestoreLower<T, TOps>)));
        mirrorLower = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<T>, int>(Kernels.MirrorLower)));
        readDiagonal = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, int>(Kernels.ReadDiagonal)));
        scale = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, T, int, long, int>(Kernels.Scale<T, TOps>)));
        axpy = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, T, long, int>(Kernels.Axpy<T, TOps>)));
        strided = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<T>, ArrayView<T>, int, int, T, int>(Kernels.Strided<T, TOps>)));
        hadamard = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, long, int>(Kernels.Hadamard<T, TOps>)));
        scaleByVector = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, long, int, int>(Kernels.ScaleByVector<T, TOps>)));
        addDiagonal = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, int, T>(Kernels.AddDiagonal<T, TOps>)));
        blockSum = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<T>, ArrayView<T>, int, int, int, int, T>(Kernels.BlockSum<T, TOps>)));
        rowKronecker = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, int, long, int>(Kernels.RowKronecker<T, TOps>)));
        gatherColumns = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, int, int, int, long, int>(Kernels.GatherColumns)));
        rowDot = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int>(Kernels.RowDot<T, TOps>)));
        batchedRidgeSolve = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, ArrayView<long>, ArrayView<int>, int, int, T>(Kernels.BatchedRidgeSolve<T, TOps>)));
        dotPartials = new(() => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, int, int, long, int>(Kernels.DotPartials<T, TOps>)));
    }

    public override int StrideThreads { get; }

    public override void Gemm(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, GemmArgs<T> args)
    {
        using var launch = clock.Launch();
        var grid = new Index2D((args.N + Kernels.Tile - 1) / Kernels.Tile, (args.M + Kernels.Tile - 1) / Kernels.Tile);
        gemm.Value(new KernelConfig(grid, new Index2D(Kernels.GroupEdge, Kernels.GroupEdge)), a, b, c, args);
    }

    public override void CholeskyDiagonal(ArrayView<T> a, ArrayView<int> info, int lda, int k0, int nb)
    {
        using var launch = clock.Launch();
        cholDiag.Value(new KernelConfig(1, Kernels.CholeskyBlock), a, info, lda, k0, nb);
    }

    public override void CholeskyPanel(ArrayView<T> a, int n, int lda, int k0, int nb)
    {
        int rows = n - k0 - nb;
        if (rows > 0)
        {
            using var launch = clock.Launch();
            cholPanel.Value(new KernelConfig((rows + Kernels.CholeskyBlock - 1) / Kernels.CholeskyBlock, Kernels.CholeskyBlock), a, n, lda, k0, nb);
        }
    }

    public override void ForwardBlock(int columns, ArrayView<T> l, ArrayView<T> b, int ldl, int ldb, int k0, int nb)
    {
        using var launch = clock.Launch();
        forward.Value(columns, l, b, ldl, ldb, k0, nb);
    }

    public override void BackwardBlock(int columns, ArrayView<T> l, ArrayView<T> b, int ldl, int ldb, int k0, int nb)
    {
        using var launch = clock.Launch();
        backward.Value(columns, l, b, ldl, ldb, k0, nb);
    }

    public override void CheckDiagonal(int n, ArrayView<T> a, ArrayView<int> info, int lda)
    {
        using var launch = clock.Launch();
        checkDiagonal.Value(n, a, info, lda);
    }

    public override void RestoreLower(int n, ArrayView<T> a, int lda, ArrayView<T> diagonal, T jitter)
    {
        using var launch = clock.Launch();
        restoreLower.Value(new Index2D(n, n), a, diagonal, lda, jitter);
    }

    public override void MirrorLower(int n, ArrayView<T> a, int lda)
    {
        using var launch = clock.Launch();
        mirrorLower.Value(new Index2D(n, n), a, lda);
    }

    public override void ReadDiagonal(int n, ArrayView<T> a, int lda, ArrayView<T> diagonal)
    {
        using var launch = clock.Launch();
        readDiagonal.Value(n, a, diagonal, lda);
    }

    public override void Scale(ArrayView<T> x, T alpha, bool zero, long length)
    {
        using var launch = clock.Launch();
        scale.Value(Threads(length), x, alpha, zero ? 1 : 0, length, Threads(length));
    }

    public override void Axpy(ArrayView<T> x, ArrayView<T> y, T alpha, long length)
    {
        using var launch = clock.Launch();
        axpy.Value(Threads(length), x, y, alpha, length, Threads(length));
    }

    public override void Strided(int rows, int cols, ArrayView<T> x, int ldx, ArrayView<T> y, int ldy, T alpha, int mode)
    {
        using var launch = clock.Launch();
        strided.Value(new Index2D(cols, rows), x, y, ldx, ldy, alpha, mode);
    }

    public override void Hadamard(int rows, int cols, ArrayView<T> a, int lda, ArrayView<T> b, int ldb, ArrayView<T> c, int ldc)
    {
        using var launch = clock.Launch();
        long length = (long)rows * cols;
        hadamard.Value(Threads(length), a, b, c, cols, lda, ldb, ldc, length, Threads(length));
    }

    public override void ScaleByVector(ArrayView<T> a, int rows, int cols, int lda, ArrayView<T> v, int vStride, bool byRow)
    {
        using var launch = clock.Launch();
        long length = (long)rows * cols;
        scaleByVector.Value(Threads(length), a, v, cols, lda, byRow ? 1 : 0, length, vStride, Threads(length));
    }

    public override void AddDiagonal(int n, ArrayView<T> a, int lda, T value)
    {
        using var launch = clock.Launch();
        addDiagonal.Value(n, a, lda, value);
    }

    public override void BlockSum(ArrayView<T> a, int lda, ArrayView<T> result, int ldr, int rows, int cols, int rowGroup, int colGroup, T scale)
    {
        using var launch = clock.Launch();
        blockSum.Value(new Index2D(cols, rows), a, result, lda, ldr, rowGroup, colGroup, scale);
    }

    public override void RowKronecker(int rows, ArrayView<T> a, int c, int lda, ArrayView<T> b, int d, int ldb, ArrayView<T> r, int ldr)
    {
        using var launch = clock.Launch();
        long length = (long)rows * c * d;
        rowKronecker.Value(Threads(length), a, b, r, c, d, lda, ldb, ldr, length, Threads(length));
    }

    public override void BatchedRidgeSolve(int count, ArrayView<T> p, ArrayView<T> factors, ArrayView<T> b, ArrayView<int> layout, ArrayView<long> offsets, ArrayView<int> status, int ldp, T ridge)
    {
        using var launch = clock.Launch();
        batchedRidgeSolve.Value(count, p, factors, b, layout, offsets, status, count, ldp, ridge);
    }

    public override void GatherColumns(int rows, ArrayView<T> a, int lda, ArrayView<int> columns, int width, ArrayView<T> d, int ldd)
    {
        using var launch = clock.Launch();
        long length = (long)rows * width;
        gatherColumns.Value(Threads(length), a, columns, d, width, lda, ldd, length, Threads(length));
    }

    public override void RowDot(int rows, int cols, ArrayView<T> a, int lda, ArrayView<T> b, int ldb, ArrayView<T> r, int rStride)
    {
        using var launch = clock.Launch();
        rowDot.Value(rows, a, b, r, cols, lda, ldb, rStride);
    }

    public override void DotPartials(int rows, int cols, ArrayView<T> a, int lda, ArrayView<T> b, int ldb, ArrayView<double> partials)
    {
        using var launch = clock.Launch();
        dotPartials.Value((int)partials.Length, a, b, partials, cols, lda, ldb, (long)rows * cols, (int)partials.Length);
    }

    public override bool TryLoadEpilogue<TProfile>()
    {
        if (epilogues.TryGetValue(typeof(TProfile), out var loaded))
        {
            return loaded is not null;
        }

        try
        {
            Epilogue<TProfile>();
            return true;
        }
        catch (Exception)
        {
            epilogues.TryAdd(typeof(TProfile), null); // ILGPU could not compile this profile for the device
            return false;
        }
    }

    public override void KernelEpilogue<TProfile>(int n, int m, ArrayView<T> g, ArrayView<T> xNorms, ArrayView<T> zNorms, ArrayView<T> weights, bool radial, bool withWeights, double tolerance, TProfile profile)
    {
        using var launch = clock.Launch();
        Epilogue<TProfile>()(new Index2D(m, n), g, xNorms, zNorms, weights, m, radial ? 1 : 0, withWeights ? 1 : 0, tolerance, profile.Value(0), profile.Derivative(0), profile);
    }

    private Action<Index2D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, double, double, double, TProfile> Epilogue<TProfile>()
        where TProfile : struct, IDeviceProfile =>
        (Action<Index2D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, double, double, double, TProfile>)epilogues.GetOrAdd(
            typeof(TProfile),
            _ => clock.Compile(() => accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, double, double, double, TProfile>(Kernels.KernelEpilogue<T, TOps, TProfile>)))!;

    private int Threads(long length) => (int)Math.Max(1, Math.Min(length, StrideThreads));
}
