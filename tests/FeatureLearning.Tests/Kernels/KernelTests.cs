using FeatureLearning.Kernels;
using FeatureLearning.Tests.Compute;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Kernels;

public sealed class KernelTests
{
    public static TheoryData<string> Kernels() => new() { "laplace", "gaussian", "genlaplace", "polynomial" };

    private static IKernelFunction Make(string name) => BackendConformanceTests.MakeKernel(name);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void DerivativeMatchesCentralFiniteDifferences(string name)
    {
        var kernel = Make(name);
        double[] points = kernel.Geometry == KernelGeometry.Radial ? [0.01, 0.3, 1.0, 2.7, 9.0] : [-1.3, -0.2, 0.0, 0.4, 2.5];
        foreach (double u in points)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(u));
            double fd = (kernel.Value(u + h) - kernel.Value(u - h)) / (2 * h);
            kernel.Derivative(u).Should().BeApproximately(fd, 1e-6 * Math.Max(1, Math.Abs(fd)), $"{kernel.Name} at u = {u}");
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void SpanEvaluationMatchesScalarProfile(string name)
    {
        var kernel = Make(name);
        var u = Random(1, 301, 1, scale: 4).Select(v => kernel.Geometry == KernelGeometry.Radial ? Math.Abs(v) : v).ToArray();
        u[0] = 0;
        var values = new double[u.Length];
        var derivatives = new double[u.Length];
        kernel.Evaluate<double>(u, values);
        kernel.EvaluateDerivative<double>(u, values, derivatives);
        RelativeError(values, u.Select(kernel.Value).ToArray()).Should().BeLessThan(1e-14);
        RelativeError(derivatives, u.Select(kernel.Derivative).ToArray()).Should().BeLessThan(1e-13);

        var uf = Cast<float>(u);
        var vf = new float[u.Length];
        var df = new float[u.Length];
        kernel.Evaluate<float>(uf, vf);
        kernel.EvaluateDerivative<float>(uf, vf, df);
        RelativeError(ToDouble(vf), ToDouble(uf).Select(kernel.Value).ToArray()).Should().BeLessThan(1e-5);
        RelativeError(ToDouble(df), ToDouble(uf).Select(kernel.Derivative).ToArray()).Should().BeLessThan(1e-5);
    }

    /// <summary>
    /// The fused value-and-derivative pass (and the separate span methods) element by element against the scalar profile,
    /// to a few ulps, on lengths that leave a scalar tail after the vectors, with u = 0 entries in the vector part and in
    /// the tail, and with the derivatives written over the statistics (the aliasing the backends use).
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void FusedSpanEvaluationMatchesScalarProfileElementwise(string name)
    {
        var kernel = Make(name);
        foreach (int length in new[] { 1, 7, 16, 37, 301 })
        {
            var u = Random(1, length, 5 + length, scale: 4).Select(v => kernel.Geometry == KernelGeometry.Radial ? Math.Abs(v) : v).ToArray();
            u[0] = 0;
            u[^1] = 0;
            if (length > 20)
            {
                u[9] = 0;
                u[10] = 1e-12;
            }

            CheckFused<double>(kernel, u, ulps: 8);
            CheckFused<float>(kernel, u, ulps: 8);
        }
    }

    private static void CheckFused<T>(IKernelFunction kernel, double[] u, int ulps)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var ut = Cast<T>(u);
        var ud = ToDouble(ut);
        var values = new T[u.Length];
        var separateValues = new T[u.Length];
        var separateDerivatives = new T[u.Length];
        var derivatives = (T[])ut.Clone();
        kernel.EvaluateWithDerivative<T>(derivatives, values, derivatives);
        kernel.Evaluate<T>(ut, separateValues);
        kernel.EvaluateDerivative<T>(ut, separateValues, separateDerivatives);
        double eps = typeof(T) == typeof(float) ? 1.1920929e-7 : 2.220446049250313e-16;
        for (int i = 0; i < u.Length; i++)
        {
            double k = kernel.Value(ud[i]), dk = kernel.Derivative(ud[i]);

            // The profile's own argument (e.g. √u/L) carries the rounding of u and of the constant: ulps relative to it.
            double scale = Math.Max(1, Math.Abs(Math.Log(Math.Abs(k) + 1e-300)));
            string at = $"{kernel.Name}, {typeof(T).Name}, u = {ud[i]:R} (element {i} of {u.Length})";
            double.CreateTruncating(values[i]).Should().BeApproximately(k, ulps * eps * scale * Math.Abs(k), at);
            double.CreateTruncating(separateValues[i]).Should().BeApproximately(k, ulps * eps * scale * Math.Abs(k), at);
            double.CreateTruncating(derivatives[i]).Should().BeApproximately(dk, ulps * eps * scale * Math.Abs(dk), at);
            double.CreateTruncating(separateDerivatives[i]).Should().BeApproximately(dk, ulps * eps * scale * Math.Abs(dk), at);
            if (ud[i] == 0)
            {
                // k(0) = 1 exactly in double; the runtime's vector e^x in single gives 1 + 2⁻²³ at 0 (as TensorPrimitives.Exp does).
                double.CreateTruncating(values[i]).Should().BeApproximately(kernel.Value(0), typeof(T) == typeof(float) ? eps : 0, at);
                double d0 = double.CreateTruncating(T.CreateTruncating(kernel.Derivative(0)));
                double.CreateTruncating(derivatives[i]).Should().BeApproximately(d0, typeof(T) == typeof(float) ? 2 * eps * Math.Abs(d0) : 0, at);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void GradientInXMatchesFiniteDifferencesForEveryMetric(string name)
    {
        var kernel = Make(name);
        const int d = 6;
        foreach (string metricName in new[] { "identity", "diagonal", "full" })
        {
            var metric = BackendConformanceTests.MakeMetric(metricName, d);
            var x = Random(1, d, 2);
            var z = Random(1, d, 3);
            var gradient = kernel.Gradient(x, z, metric);
            for (int i = 0; i < d; i++)
            {
                const double h = 1e-6;
                var xp = (double[])x.Clone();
                var xm = (double[])x.Clone();
                xp[i] += h;
                xm[i] -= h;
                double fd = (kernel.Evaluate(xp, z, metric) - kernel.Evaluate(xm, z, metric)) / (2 * h);
                gradient[i].Should().BeApproximately(fd, 1e-7, $"{kernel.Name}, {metricName} metric, coordinate {i}");
            }
        }
    }

    [Fact]
    public void LaplaceSelfTermsAreOmitted()
    {
        var kernel = new LaplaceKernel(3);
        kernel.IsDifferentiableAtZero.Should().BeFalse();
        kernel.Derivative(0).Should().Be(0);
        kernel.Gradient([1.0, 2.0], [1.0, 2.0], Metric.Identity).Should().Equal(0.0, 0.0);
        new GeneralizedLaplaceKernel(1, 2).IsDifferentiableAtZero.Should().BeTrue();
    }

    [Fact]
    public void GeneralizedLaplaceContainsLaplaceAndGaussian()
    {
        foreach (double u in new[] { 0.0, 0.5, 3.0 })
        {
            new GeneralizedLaplaceKernel(2.0, 1.0).Value(u).Should().BeApproximately(new LaplaceKernel(2.0).Value(u), 1e-15);
            new GeneralizedLaplaceKernel(2.0, 2.0).Value(u).Should().BeApproximately(new GaussianKernel(2.0 / Math.Sqrt(2)).Value(u), 1e-15);
        }
    }

    [Fact]
    public void QuadraticKernelIsTheSquaredShiftedInnerProduct()
    {
        var k = PolynomialKernel.Quadratic(1.0);
        k.Evaluate([1.0, 2.0], [3.0, -1.0], Metric.Identity).Should().Be(Math.Pow(1 + 1, 2));
    }

    [Fact]
    public void InvalidParametersNameTheParameter()
    {
        ((Action)(() => new LaplaceKernel(0).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Bandwidth");
        ((Action)(() => new GaussianKernel(-1).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Bandwidth");
        ((Action)(() => new GaussianKernel(double.NaN).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Bandwidth");
        ((Action)(() => new GeneralizedLaplaceKernel(1, 2.5).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Exponent");
        ((Action)(() => new GeneralizedLaplaceKernel(1, 0).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Exponent");
        ((Action)(() => new PolynomialKernel(0, 1).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Degree");
        ((Action)(() => new PolynomialKernel(2, -1).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Offset");
    }
}
