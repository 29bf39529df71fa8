using System.Numerics;
using System.Runtime.Intrinsics;
using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Compute;

/// <summary>
/// The embedded default backend: pure C#, no native dependency. A packed, cache-blocked, multi-threaded
/// GEMM with a Vector512/Vector256 FMA micro-kernel (scalar fallback), SYRK and a blocked Cholesky built on
/// it, and a fused kernel matrix evaluated in tiles (one GEMM per tile, then the distances and the kernel
/// profile, values and derivative weights in one SIMD pass, while the tile is in cache; K(X, X) computed on and
/// below the diagonal and mirrored).
/// </summary>
/// <remarks>
/// The symmetric eigendecomposition uses MathNet.Numerics' managed solver: it is meant for metric matrices
/// (d × d, d up to a few thousand), not for n × n kernel matrices. The SIMD path can be restricted with the
/// environment variable <c>FEATURELEARNING_SIMD</c> = <c>256</c> or <c>scalar</c> (<c>512</c> or unset: the widest the CPU
/// supports), read once per process; any other value makes the constructor throw <see cref="InvalidOperationException"/>.
/// </remarks>
public sealed unsafe class ManagedBackend : CpuBackend
{
    /// <summary>Creates a managed backend.</summary>
    /// <param name="maxDegreeOfParallelism">Worker threads; 0 or less uses <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="bufferPoolBytes">
    /// How many bytes of disposed buffers to keep for reuse by later allocations of the same size: -1 (the default)
    /// keeps up to an eighth of the memory available to the garbage collector, 0 turns pooling off. Iterative
    /// algorithms allocate the same large buffers every round (an RFM round: two n × n matrices); reusing them avoids
    /// page faults and full garbage collections. <see cref="CpuBackend.Dispose()"/> releases the pool.
    /// </param>
    /// <exception cref="InvalidOperationException"><c>FEATURELEARNING_SIMD</c> holds a value other than <c>512</c>, <c>256</c> or <c>scalar</c>.</exception>
    public ManagedBackend(int maxDegreeOfParallelism = 0, long bufferPoolBytes = -1)
        : base(maxDegreeOfParallelism, bufferPoolBytes)
    {
        _ = SimdSetting.Requested;
        GemmBlocking.CheckOverride();
    }

    /// <inheritdoc />
    public override string Name => "managed";

    /// <inheritdoc />
    public override string Describe() =>
        $"managed backend: {Threads} thread(s), buffer pool {PoolDescription}, GEMM micro-kernel {PackedGemm<double>.KernelName} (double) / {PackedGemm<float>.KernelName} (single), " +
        $"blocking {PackedGemm<double>.Blocking} (double) / {PackedGemm<float>.Blocking} (single) from L1d {GemmBlocking.CacheSizes.L1Bytes / 1024} KiB, L2 {GemmBlocking.CacheSizes.L2Bytes / 1024} KiB ({GemmBlocking.CacheSizes.Source}{(GemmBlocking.IsIntel ? ", Intel rule" : "")}), " +
        $"SIMD {PackedGemm<double>.SimdBits}-bit (Vector512 accelerated: {Vector512.IsHardwareAccelerated}), precision single and double, " +
        $".NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}";

    /// <inheritdoc />
    protected override void GemmCore<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc, int threads)
        => PackedGemm<T>.Multiply(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, false, threads);

    /// <inheritdoc />
    protected override void SyrkLowerCore<T>(bool trans, int n, int k, T alpha, T* a, int lda, T beta, T* c, int ldc)
        => PackedGemm<T>.Multiply(trans, !trans, n, n, k, alpha, a, lda, a, lda, beta, c, ldc, true, Threads);

    /// <inheritdoc />
    protected override int CholeskyFactorCore<T>(T* a, int n, int lda, CancellationToken cancellationToken)
        => BlockedCholesky<T>.Factor(a, n, lda, Threads, cancellationToken);

    /// <inheritdoc />
    protected override void CholeskySolveCore<T>(T* l, int n, int ldl, T* b, int c, int ldb)
        => BlockedCholesky<T>.Solve(l, n, ldl, b, c, ldb, Threads);
}
