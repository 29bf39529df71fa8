using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <content>
/// Kernels of the <see cref="KernelGeometry.InnerProductAndNorms"/> geometry, κ(u, a, b) with u = xᵀMz, a = xᵀMx, b = zᵀMz:
/// the kernel matrix and its two derivative blocks against a per-pair evaluation, and against the Gaussian kernel that
/// <see cref="NormGaussianKernel"/> equals.
/// </content>
public abstract partial class BackendConformanceTests
{
    [SkippableTheory]
    [InlineData("identity")]
    [InlineData("diagonal")]
    [InlineData("full")]
    public void NormDependentKernelMatrixEqualsTheGaussianItRewrites(string metricName)
    {
        CheckNormGaussian<double>(metricName, 1e-10);
        CheckNormGaussian<float>(metricName, 2e-4);
    }

    private void CheckNormGaussian<T>(string metricName, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 17, m = 13, d = 4;
        var metric = MakeMetric(metricName, d);
        using var xb = Backend.Upload<T>(Cast<T>(Random(n, d, 31)), n, d);
        using var zb = Backend.Upload<T>(Cast<T>(Random(m, d, 32)), m, d);
        using var mb = metric.Upload<T>(Backend);
        var norm = new NormGaussianKernel(1.5);
        using var k = Backend.Allocate<T>(n, m);
        using var w = Backend.Allocate<T>(n, norm.DerivativeWeightColumns(m));
        Backend.KernelMatrix(norm, xb, zb, mb, k, w);
        using var kg = Backend.Allocate<T>(n, m);
        using var wg = Backend.Allocate<T>(n, m);
        Backend.KernelMatrix(new GaussianKernel(1.5), xb, zb, mb, kg, wg);

        var (kn, wn, kgh, wgh) = (Download(Backend, k), Download(Backend, w), Download(Backend, kg), Download(Backend, wg));
        RelativeError(kn, kgh).Should().BeLessThan(tolerance, typeof(T).Name);

        // κ = exp((2u − a − b)/(2L²)) = φ(a + b − 2u): ∂κ/∂u = −2φ′ and ∂κ/∂a = φ′.
        var du = new double[n * m];
        var da = new double[n * m];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(wn, i * 2 * m, du, i * m, m);
            Array.Copy(wn, (i * 2 * m) + m, da, i * m, m);
        }

        RelativeError(du, wgh.Select(v => -2 * v).ToArray()).Should().BeLessThan(tolerance, $"{typeof(T).Name} ∂κ/∂u");
        RelativeError(da, wgh).Should().BeLessThan(tolerance, $"{typeof(T).Name} ∂κ/∂a");
    }

    [SkippableTheory]
    [InlineData("identity", false)]
    [InlineData("diagonal", true)]
    [InlineData("full", true)]
    public void NormDependentKernelMatrixMatchesPerPairEvaluation(string metricName, bool same)
    {
        const int n = 11, d = 3;
        int m = same ? n : 9;
        var metric = MakeMetric(metricName, d);
        var kernel = new NormPolynomialKernel(0.3);
        var x = Random(n, d, 41);
        var z = same ? x : Random(m, d, 42);
        using var xb = Backend.Upload<double>(x, n, d);
        using var zb = same ? xb : Backend.Upload<double>(z, m, d);
        using var mb = metric.Upload<double>(Backend);
        using var k = Backend.Allocate<double>(n, m);
        using var w = Backend.Allocate<double>(n, 2 * m);
        Backend.KernelMatrix(kernel, xb, zb, mb, k, w);
        var (kh, wh) = (Download(Backend, k), Download(Backend, w));

        var expectedK = new double[n * m];
        var expectedW = new double[n * 2 * m];
        for (int i = 0; i < n; i++)
        {
            var xi = x.AsSpan(i * d, d);
            for (int j = 0; j < m; j++)
            {
                var zj = z.AsSpan(j * d, d);
                double u = metric.InnerProduct(xi, zj), a = metric.InnerProduct(xi, xi), b = metric.InnerProduct(zj, zj);
                expectedK[(i * m) + j] = kernel.Value(u, a, b);
                (expectedW[(i * 2 * m) + j], expectedW[(i * 2 * m) + m + j]) = kernel.Derivatives(u, a, b);
                kernel.Evaluate(xi, zj, metric).Should().BeApproximately(expectedK[(i * m) + j], 1e-12);
            }
        }

        RelativeError(kh, expectedK).Should().BeLessThan(1e-12);
        RelativeError(wh, expectedW).Should().BeLessThan(1e-12);
    }

    [SkippableFact]
    public void NormDependentKernelMatrixRefusesWeightsOfTheRadialWidth()
    {
        using var x = Backend.Upload<double>(Random(5, 2, 1), 5, 2);
        using var k = Backend.Allocate<double>(5, 5);
        using var w = Backend.Allocate<double>(5, 5);
        var act = () => Backend.KernelMatrix(new NormGaussianKernel(1.0), x, x, null, k, w);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("derivativeWeights");
    }

    [SkippableFact]
    public void KernelDeclaringTheNormGeometryWithoutTheInterfaceIsRefused()
    {
        using var x = Backend.Upload<double>(Random(4, 2, 1), 4, 2);
        using var k = Backend.Allocate<double>(4, 4);
        var act = () => Backend.KernelMatrix(new MislabelledKernel(), x, x, null, k);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("kernel");
    }

    /// <summary>κ(u, a, b) = exp((2u − a − b)/(2L²)): the Gaussian kernel written in the inner product and the norms.</summary>
    internal readonly record struct NormGaussianKernel(double Bandwidth) : INormDependentKernel
    {
        private double Scale => 1.0 / (2.0 * Bandwidth * Bandwidth);

        public KernelGeometry Geometry => KernelGeometry.InnerProductAndNorms;

        public bool IsDifferentiableAtZero => true;

        public string Name => $"NormGaussian(L={Bandwidth})";

        public double Value(double u) => Value(u, 1, 1);

        public double Derivative(double u) => Derivatives(u, 1, 1).DU;

        public double Value(double u, double a, double b) => Math.Exp(Scale * ((2 * u) - a - b));

        public (double DU, double DA) Derivatives(double u, double a, double b)
        {
            double v = Value(u, a, b);
            return (2 * Scale * v, -Scale * v);
        }

        public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
            where T : unmanaged, IFloatingPointIeee754<T> => OnUnitSphere(this, u, values, derivative: false);

        public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
            where T : unmanaged, IFloatingPointIeee754<T> => OnUnitSphere(this, u, derivatives, derivative: true);

        public void EvaluateRow<T>(ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> values)
            where T : unmanaged, IFloatingPointIeee754<T> => Row(this, u, a, b, values, default, default);

        public void EvaluateRowDerivatives<T>(ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> du, Span<T> da)
            where T : unmanaged, IFloatingPointIeee754<T> => Row(this, u, a, b, default, du, da);

        public void Validate()
        {
        }
    }

    /// <summary>κ(u, a, b) = (u + c)²·exp(−(a + b)/4): depends on the norms in a way no radial or dot-product kernel does.</summary>
    internal readonly record struct NormPolynomialKernel(double Offset) : INormDependentKernel
    {
        public KernelGeometry Geometry => KernelGeometry.InnerProductAndNorms;

        public bool IsDifferentiableAtZero => true;

        public string Name => $"NormPolynomial(c={Offset})";

        public double Value(double u) => Value(u, 1, 1);

        public double Derivative(double u) => Derivatives(u, 1, 1).DU;

        public double Value(double u, double a, double b) => (u + Offset) * (u + Offset) * Math.Exp(-(a + b) / 4);

        public (double DU, double DA) Derivatives(double u, double a, double b)
        {
            double e = Math.Exp(-(a + b) / 4);
            return (2 * (u + Offset) * e, -0.25 * (u + Offset) * (u + Offset) * e);
        }

        public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
            where T : unmanaged, IFloatingPointIeee754<T> => OnUnitSphere(this, u, values, derivative: false);

        public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
            where T : unmanaged, IFloatingPointIeee754<T> => OnUnitSphere(this, u, derivatives, derivative: true);

        public void EvaluateRow<T>(ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> values)
            where T : unmanaged, IFloatingPointIeee754<T> => Row(this, u, a, b, values, default, default);

        public void EvaluateRowDerivatives<T>(ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> du, Span<T> da)
            where T : unmanaged, IFloatingPointIeee754<T> => Row(this, u, a, b, default, du, da);

        public void Validate()
        {
        }
    }

    /// <summary>Declares the norm geometry but is a plain <see cref="IKernelFunction"/>.</summary>
    private readonly struct MislabelledKernel : IKernelFunction
    {
        public KernelGeometry Geometry => KernelGeometry.InnerProductAndNorms;

        public bool IsDifferentiableAtZero => true;

        public string Name => "Mislabelled";

        public double Value(double u) => u;

        public double Derivative(double u) => 1;

        public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
            where T : unmanaged, IFloatingPointIeee754<T> => u.CopyTo(values);

        public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
            where T : unmanaged, IFloatingPointIeee754<T> => derivatives.Fill(T.One);

        public void Validate()
        {
        }
    }

    /// <summary>κ(u, 1, 1) or ∂κ/∂u(u, 1, 1) element by element (the single-statistic members of a norm-dependent kernel).</summary>
    private static void OnUnitSphere<T, TKernel>(TKernel kernel, ReadOnlySpan<T> u, Span<T> destination, bool derivative)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : INormDependentKernel
    {
        for (int j = 0; j < u.Length; j++)
        {
            double s = double.CreateTruncating(u[j]);
            destination[j] = T.CreateTruncating(derivative ? kernel.Derivatives(s, 1, 1).DU : kernel.Value(s, 1, 1));
        }
    }

    /// <summary>A row of values (when <paramref name="values"/> is not empty) or of both derivatives, from the scalar members.</summary>
    private static void Row<T, TKernel>(TKernel kernel, ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> values, Span<T> du, Span<T> da)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : INormDependentKernel
    {
        double ad = double.CreateTruncating(a);
        for (int j = 0; j < u.Length; j++)
        {
            double s = double.CreateTruncating(u[j]), bj = double.CreateTruncating(b[j]);
            if (!values.IsEmpty)
            {
                values[j] = T.CreateTruncating(kernel.Value(s, ad, bj));
                continue;
            }

            var (dU, dA) = kernel.Derivatives(s, ad, bj);
            du[j] = T.CreateTruncating(dU);
            da[j] = T.CreateTruncating(dA);
        }
    }
}
