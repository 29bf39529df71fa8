using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Backends.Ilgpu.Tests;

/// <summary>
/// The kernel-matrix epilogue reaches the device through <see cref="IKernelVisitor"/> (no reflection): every kernel struct
/// of the library runs there, and a kernel that does not accept the visitor runs on the host with the same result.
/// </summary>
public sealed class DeviceEpilogueTests
{
    /// <summary>One instance of every kernel struct of the library; <see cref="TheListHoldsEveryKernelStructOfTheLibrary"/> keeps it complete.</summary>
    private static readonly IKernelFunction[] BuiltIn =
    [
        new LaplaceKernel(2.5),
        new GaussianKernel(1.7),
        new GeneralizedLaplaceKernel(2.0, 1.2),
        new PolynomialKernel(3, 1.0),
    ];

    /// <summary>The kernel structs of the inner product and the norms, whose profile (a per-pair layer recursion) runs on the host.</summary>
    private static readonly IKernelFunction[] HostEvaluated =
    [
        FeatureLearning.Ntk.NeuralKernel.Ntk(new FeatureLearning.Ntk.InfiniteWidthKernel(FeatureLearning.Networks.Activation.Relu, 2, 1.4, 0.2), 3),
    ];

    [Fact]
    public void TheListHoldsEveryKernelStructOfTheLibrary()
    {
        var structs = typeof(IKernelFunction).Assembly.GetExportedTypes()
            .Where(t => t.IsValueType && typeof(IKernelFunction).IsAssignableFrom(t));
        BuiltIn.Concat(HostEvaluated).Select(k => k.GetType()).Should().BeEquivalentTo(structs);
    }

    [Fact]
    public void NormDependentKernelsRunOnTheHostWithTheManagedResult()
    {
        using var gpu = new IlgpuBackend();
        using var managed = new ManagedBackend();
        const int n = 5, m = 4, d = 3;
        foreach (var kernel in HostEvaluated)
        {
            long host = gpu.HostEpilogues;
            var (k, w) = KernelMatrix<double>(gpu, kernel, n, m, d);
            gpu.HostEpilogues.Should().Be(host + 1, $"{kernel.Name} is evaluated on the host");
            var (kRef, wRef) = KernelMatrix<double>(managed, kernel, n, m, d);
            w.Length.Should().Be(2 * n * m, "the weights hold ∂κ/∂u and ∂κ/∂a side by side");
            RelativeError(k, kRef).Should().BeLessThan(1e-12, kernel.Name);
            RelativeError(w, wRef).Should().BeLessThan(1e-12, kernel.Name);
        }
    }

    [Fact]
    public void EveryKernelStructOfTheLibraryVisitsWithItsOwnType()
    {
        foreach (var kernel in BuiltIn)
        {
            var visitor = new TypeRecorder();
            kernel.Accept(visitor).Should().BeTrue(kernel.Name);
            visitor.Visited.Should().Equal([kernel.GetType()], kernel.Name);
        }

        var boxed = new TypeRecorder();
        ((IKernelFunction)new BoxedKernel(new LaplaceKernel(2.5))).Accept(boxed).Should().BeFalse("a class keeps the default");
        boxed.Visited.Should().BeEmpty();
    }

    [Fact]
    public void EveryKernelStructOfTheLibraryRunsOnTheDeviceInBothPrecisions()
    {
        using var gpu = new IlgpuBackend();
        using var managed = new ManagedBackend();
        const int n = 7, m = 5, d = 3;
        foreach (var kernel in BuiltIn)
        {
            long host = gpu.HostEpilogues;
            var (k, w) = KernelMatrix<double>(gpu, kernel, n, m, d);
            var (kRef, wRef) = KernelMatrix<double>(managed, kernel, n, m, d);
            RelativeError(k, kRef).Should().BeLessThan(1e-10, kernel.Name);
            RelativeError(w, wRef).Should().BeLessThan(1e-10, kernel.Name);
            var (ks, ws) = KernelMatrix<float>(gpu, kernel, n, m, d);
            var (ksRef, wsRef) = KernelMatrix<float>(managed, kernel, n, m, d);
            RelativeError(ks.Select(v => (double)v).ToArray(), ksRef.Select(v => (double)v).ToArray()).Should().BeLessThan(1e-4, kernel.Name);
            RelativeError(ws.Select(v => (double)v).ToArray(), wsRef.Select(v => (double)v).ToArray()).Should().BeLessThan(1e-4, kernel.Name);
            gpu.HostEpilogues.Should().Be(host, $"{kernel.Name} is compiled for the device");
        }
    }

    [Fact]
    public void AKernelThatDoesNotAcceptTheVisitorTakesTheHostPathWithTheSameResult()
    {
        using var gpu = new IlgpuBackend();
        const int n = 6, m = 4, d = 3;
        var (k, w) = KernelMatrix<double>(gpu, new LaplaceKernel(2.5), n, m, d);
        foreach (var other in new IKernelFunction[] { new BoxedKernel(new LaplaceKernel(2.5)), new UserKernel(new LaplaceKernel(2.5)) })
        {
            long host = gpu.HostEpilogues;
            var (kh, wh) = KernelMatrix<double>(gpu, other, n, m, d);
            gpu.HostEpilogues.Should().Be(host + 1, $"{other.Name} is evaluated on the host");
            RelativeError(kh, k).Should().BeLessThan(1e-14, other.Name);
            RelativeError(wh, w).Should().BeLessThan(1e-14, other.Name);
        }
    }

    private static (T[] Values, T[] Weights) KernelMatrix<T>(IComputeBackend backend, IKernelFunction kernel, int n, int m, int d)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var x = backend.Upload(Random(n, d, 1).Select(T.CreateTruncating).ToArray(), n, d);
        using var z = backend.Upload(Random(m, d, 2).Select(T.CreateTruncating).ToArray(), m, d);
        using var k = backend.Allocate<T>(n, m);
        using var w = backend.Allocate<T>(n, kernel.DerivativeWeightColumns(m));
        backend.KernelMatrix(kernel, x, z, null, k, w);
        var (values, weights) = (new T[n * m], new T[w.Length]);
        backend.Download(k, values);
        backend.Download(w, weights);
        return (values, weights);
    }

    private sealed class TypeRecorder : IKernelVisitor
    {
        public List<Type> Visited { get; } = [];

        public void Visit<TKernel>(in TKernel kernel)
            where TKernel : struct, IKernelFunction => Visited.Add(typeof(TKernel));
    }

    /// <summary>A user's kernel struct that does not implement <see cref="IKernelFunction.Accept"/>: it keeps the default.</summary>
    private readonly struct UserKernel(IKernelFunction inner) : IKernelFunction
    {
        KernelGeometry IKernelFunction.Geometry => inner.Geometry;

        bool IKernelFunction.IsDifferentiableAtZero => inner.IsDifferentiableAtZero;

        string IKernelFunction.Name => "user struct " + inner.Name;

        double IKernelFunction.Value(double u) => inner.Value(u);

        double IKernelFunction.Derivative(double u) => inner.Derivative(u);

        void IKernelFunction.Evaluate<T>(ReadOnlySpan<T> u, Span<T> values) => inner.Evaluate(u, values);

        void IKernelFunction.EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives) => inner.EvaluateDerivative(u, values, derivatives);

        void IKernelFunction.Validate() => inner.Validate();
    }
}
