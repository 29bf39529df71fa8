using System.Collections.Concurrent;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// <see cref="CpuBackend"/> as an extension point: a backend that supplies only the four cores (plain loops here), its
/// name and its description passes the whole conformance suite, and the kernel matrix calls its GEMM core from parallel
/// workers with one thread each, as the threading contract says.
/// </summary>
public sealed class DerivedCpuBackendTests : BackendConformanceTests
{
    protected override IComputeBackend CreateBackend() => new LoopBackend();

    [Fact]
    public void TheKernelMatrixCallsTheGemmCoreWithOneThreadPerTile()
    {
        using var backend = new LoopBackend();
        const int n = 300, d = 4; // three row blocks of 128
        using var x = backend.Upload<double>(Random(n, d, 1), n, d);
        using var k = backend.Allocate<double>(n, n);
        backend.KernelMatrix(new GaussianKernel(1.5), x, x, null, k);

        // K(X, X) is symmetric: each row block computes the tiles left of its diagonal block (256 columns wide in double)
        // and the diagonal block, 1 + 2 + 2 tiles, and mirrors the rest.
        backend.GemmThreads.Should().HaveCount(5).And.OnlyContain(t => t == 1);
    }

    /// <summary>A CPU backend in a few loops: what a user deriving from <see cref="CpuBackend"/> writes.</summary>
    private sealed unsafe class LoopBackend() : CpuBackend(0, 0)
    {
        public ConcurrentBag<int> GemmThreads { get; } = [];

        public override string Name => "loops";

        public override string Describe() => $"loops backend, {Threads} thread(s)";

        protected override void GemmCore<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc, int threads)
        {
            GemmThreads.Add(threads);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    T sum = T.Zero;
                    for (int p = 0; p < k; p++)
                    {
                        sum += (transA ? a[((long)p * lda) + i] : a[((long)i * lda) + p]) * (transB ? b[((long)j * ldb) + p] : b[((long)p * ldb) + j]);
                    }

                    T* cij = c + ((long)i * ldc) + j;
                    *cij = beta == T.Zero ? alpha * sum : (alpha * sum) + (beta * *cij);
                }
            }
        }

        protected override void SyrkLowerCore<T>(bool trans, int n, int k, T alpha, T* a, int lda, T beta, T* c, int ldc)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    T sum = T.Zero;
                    for (int p = 0; p < k; p++)
                    {
                        sum += trans ? a[((long)p * lda) + i] * a[((long)p * lda) + j] : a[((long)i * lda) + p] * a[((long)j * lda) + p];
                    }

                    T* cij = c + ((long)i * ldc) + j;
                    *cij = beta == T.Zero ? alpha * sum : (alpha * sum) + (beta * *cij);
                }
            }
        }

        protected override int CholeskyFactorCore<T>(T* a, int n, int lda, CancellationToken cancellationToken)
        {
            for (int j = 0; j < n; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                T pivot = a[((long)j * lda) + j];
                for (int p = 0; p < j; p++)
                {
                    pivot -= a[((long)j * lda) + p] * a[((long)j * lda) + p];
                }

                if (!(pivot > T.Zero))
                {
                    return j; // also a NaN pivot
                }

                pivot = T.Sqrt(pivot);
                a[((long)j * lda) + j] = pivot;
                for (int i = j + 1; i < n; i++)
                {
                    T s = a[((long)i * lda) + j];
                    for (int p = 0; p < j; p++)
                    {
                        s -= a[((long)i * lda) + p] * a[((long)j * lda) + p];
                    }

                    a[((long)i * lda) + j] = s / pivot;
                }
            }

            return -1;
        }

        protected override void CholeskySolveCore<T>(T* l, int n, int ldl, T* b, int c, int ldb)
        {
            for (int col = 0; col < c; col++)
            {
                for (int i = 0; i < n; i++)
                {
                    T s = b[((long)i * ldb) + col];
                    for (int p = 0; p < i; p++)
                    {
                        s -= l[((long)i * ldl) + p] * b[((long)p * ldb) + col];
                    }

                    b[((long)i * ldb) + col] = s / l[((long)i * ldl) + i];
                }

                for (int i = n - 1; i >= 0; i--)
                {
                    T s = b[((long)i * ldb) + col];
                    for (int p = i + 1; p < n; p++)
                    {
                        s -= l[((long)p * ldl) + i] * b[((long)p * ldb) + col];
                    }

                    b[((long)i * ldb) + col] = s / l[((long)i * ldl) + i];
                }
            }
        }
    }
}
