using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Ntk;

public sealed class InfiniteWidthKernelTests
{
    [Fact]
    public void ReluDepthOneHasTheHandValues()
    {
        var kernel = new InfiniteWidthKernel(Activation.Relu, 1);
        var parallel = kernel.Evaluate(1, 1, 1);
        parallel.Nngp.Should().BeApproximately(0.5, 1e-15);
        parallel.Ntk.Should().BeApproximately(1.0, 1e-15);
        var orthogonal = kernel.Evaluate(1, 1, 0);
        orthogonal.Nngp.Should().BeApproximately(1 / (2 * Math.PI), 1e-15);
        orthogonal.Ntk.Should().BeApproximately(1 / (2 * Math.PI), 1e-15);
    }

    [Fact]
    public void DepthZeroIsTheLinearModel()
    {
        var value = new InfiniteWidthKernel(Activation.Tanh, 0, 1.5, 0.4).Evaluate(2, 3, -0.7);
        value.Nngp.Should().BeApproximately((2.25 * -0.7) + 0.16, 1e-15);
        value.Ntk.Should().Be(value.Nngp);
    }

    [Fact]
    public void QuadraticActivationFollowsTheGaussianMomentRecursion()
    {
        // For φ(x) = x²: E[u²] ↦ E[u⁴] = 3a², E[u²v²] = ab + 2c², E[φ′φ′] = 4c. Two hidden layers by hand.
        const double w2 = 0.49, b2 = 0.01;
        double a = (w2 * 1.2) + b2, b = (w2 * 0.9) + b2, c = (w2 * 0.3) + b2, t = c;
        for (int layer = 0; layer < 2; layer++)
        {
            double na = (w2 * 3 * a * a) + b2, nb = (w2 * 3 * b * b) + b2, nc = (w2 * ((a * b) + (2 * c * c))) + b2;
            t = nc + (w2 * 4 * c * t);
            (a, b, c) = (na, nb, nc);
        }

        var value = new InfiniteWidthKernel(Activation.Quadratic, 2, 0.7, 0.1).Evaluate(1.2, 0.9, 0.3);
        value.Nngp.Should().BeApproximately(c, 1e-13 * c);
        value.Ntk.Should().BeApproximately(t, 1e-13 * t);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.4)]
    public void LeakyReluMatchesItsClosedFormAtOneLayer(double slope)
    {
        // φ = A·x + B·|x|: E[φ(u)φ(v)] = A²c + B²·E|u||v| (cross terms are odd), E|u||v| = (2/π)(√(ab − c²) + c·arcsin(c/√(ab))).
        double a = 1.3, b = 0.8, c = 0.5, A = (1 + slope) / 2, B = (1 - slope) / 2;
        double rho = c / Math.Sqrt(a * b);
        double expectedF = (A * A * c) + (B * B * 2 / Math.PI * (Math.Sqrt((a * b) - (c * c)) + (c * Math.Asin(rho))));
        double expectedG = (A * A) + (B * B * 2 / Math.PI * Math.Asin(rho));
        var value = new InfiniteWidthKernel(Activation.LeakyRelu(slope), 1).Evaluate(a, b, c);
        value.Nngp.Should().BeApproximately(expectedF, 1e-14);
        value.Ntk.Should().BeApproximately(expectedF + (expectedG * c), 1e-14);
    }

    public static TheoryData<string, int> ActivationsAndDepths()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in new[] { "relu", "leaky", "tanh", "erf", "gelu", "quadratic", "linear" })
        {
            data.Add(name, 1);
            data.Add(name, 3);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ActivationsAndDepths))]
    public void PartialsMatchCentralFiniteDifferences(string name, int depth)
    {
        // Order 200: the finite differences then see the same quadrature error as the Price-theorem partials (< 10⁻⁹).
        var kernel = new InfiniteWidthKernel(ActivationTests.Make(name), depth, 1.2, 0.3) { QuadratureOrder = 200 };
        (double xx, double zz, double xz) = (1.3, 0.7, 0.4);
        var r = kernel.EvaluateWithDerivatives(xx, zz, xz);
        var value = kernel.Evaluate(xx, zz, xz);
        r.Nngp.Should().BeApproximately(value.Nngp, 1e-14 * Math.Abs(value.Nngp));
        r.Ntk.Should().BeApproximately(value.Ntk, 1e-14 * Math.Abs(value.Ntk));

        const double h = 1e-5;
        var dxx = Difference(kernel.Evaluate(xx + h, zz, xz), kernel.Evaluate(xx - h, zz, xz), h);
        var dzz = Difference(kernel.Evaluate(xx, zz + h, xz), kernel.Evaluate(xx, zz - h, xz), h);
        var dxz = Difference(kernel.Evaluate(xx, zz, xz + h), kernel.Evaluate(xx, zz, xz - h), h);
        Close(r.NngpPartials.Xx, dxx.Nngp, "∂NNGP/∂xx");
        Close(r.NngpPartials.Zz, dzz.Nngp, "∂NNGP/∂zz");
        Close(r.NngpPartials.Xz, dxz.Nngp, "∂NNGP/∂xz");
        Close(r.NtkPartials.Xx, dxx.Ntk, "∂NTK/∂xx");
        Close(r.NtkPartials.Zz, dzz.Ntk, "∂NTK/∂zz");
        Close(r.NtkPartials.Xz, dxz.Ntk, "∂NTK/∂xz");
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("erf")]
    public void MetricGradientFormulaMatchesFiniteDifferencesInX(string name)
    {
        // k(x) = NTK(xᵀMx, zᵀMz, xᵀMz) has ∇ₓk = ∂k/∂(xᵀMz)·Mz + 2·∂k/∂(xᵀMx)·Mx.
        const int d = 4;
        var a = Matrix<double>.Build.DenseOfRowMajor(d, d, Random(d, d, 31));
        var metric = a.TransposeThisAndMultiply(a) / d;
        var x = Vector<double>.Build.DenseOfArray(Random(1, d, 32));
        var z = Vector<double>.Build.DenseOfArray(Random(1, d, 33));
        var kernel = new InfiniteWidthKernel(ActivationTests.Make(name), 2, 1.1, 0.2) { QuadratureOrder = 200 };
        double Ntk(Vector<double> p) => kernel.Evaluate(p * metric * p, z * metric * z, p * metric * z).Ntk;

        var r = kernel.EvaluateWithDerivatives(x * metric * x, z * metric * z, x * metric * z);
        var gradient = (r.NtkPartials.Xz * (metric * z)) + (2 * r.NtkPartials.Xx * (metric * x));
        for (int i = 0; i < d; i++)
        {
            const double h = 1e-5;
            var e = Vector<double>.Build.Dense(d);
            e[i] = h;
            double fd = (Ntk(x + e) - Ntk(x - e)) / (2 * h);
            gradient[i].Should().BeApproximately(fd, 1e-6 * Math.Max(1, Math.Abs(fd)), $"coordinate {i}");
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.6)]
    [InlineData(-0.95)]
    public void QuadratureAgreesWithTheErfClosedForm(double rho)
    {
        var closed = new InfiniteWidthKernel(Activation.Erf, 3, 1.3, 0.2);
        var quadrature = closed with { ForceQuadrature = true, QuadratureOrder = 200 };
        double xx = 1.1, zz = 0.9, xz = rho * Math.Sqrt(xx * zz);
        var c = closed.EvaluateWithDerivatives(xx, zz, xz);
        var q = quadrature.EvaluateWithDerivatives(xx, zz, xz);
        q.Nngp.Should().BeApproximately(c.Nngp, 1e-12);
        q.Ntk.Should().BeApproximately(c.Ntk, 1e-12);
        q.NtkPartials.Xx.Should().BeApproximately(c.NtkPartials.Xx, 1e-10);
        q.NtkPartials.Zz.Should().BeApproximately(c.NtkPartials.Zz, 1e-10);
        q.NtkPartials.Xz.Should().BeApproximately(c.NtkPartials.Xz, 1e-10);
        q.NngpPartials.Xx.Should().BeApproximately(c.NngpPartials.Xx, 1e-10);
        q.NngpPartials.Xz.Should().BeApproximately(c.NngpPartials.Xz, 1e-10);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(-0.8)]
    public void QuadratureConvergesToTheReluClosedForm(double rho)
    {
        // ReLU's kink (and the jump of φ′) makes Gauss–Hermite converge only algebraically, about like 1/n: quadrupling
        // the order must at least halve the error, and order 400 must be within 2%. The closed form is what ReLU uses.
        var closed = new InfiniteWidthKernel(Activation.Relu, 2, Math.Sqrt(2), 0.1);
        var c = closed.Evaluate(1, 1, rho);
        var coarse = (closed with { ForceQuadrature = true, QuadratureOrder = 100 }).Evaluate(1, 1, rho);
        var fine = (closed with { ForceQuadrature = true, QuadratureOrder = 400 }).Evaluate(1, 1, rho);
        Math.Abs(fine.Nngp - c.Nngp).Should().BeLessThan(0.5 * Math.Abs(coarse.Nngp - c.Nngp));
        Math.Abs(fine.Ntk - c.Ntk).Should().BeLessThan(0.5 * Math.Abs(coarse.Ntk - c.Ntk));
        fine.Nngp.Should().BeApproximately(c.Nngp, 0.02 * c.Nngp);
        fine.Ntk.Should().BeApproximately(c.Ntk, 0.02 * c.Ntk);
    }

    [Fact]
    public void TanhAgreesWithASeededMonteCarloEstimate()
    {
        // Depth 1: NNGP = σ_w²·E[tanh(u)tanh(v)] + σ_b², NTK = NNGP + σ_w²·E[sech²(u)sech²(v)]·Θ¹, (u, v) ~ N(0, Σ¹).
        const double w2 = 1.69, b2 = 0.04, xx = 1.1, zz = 0.8, xz = 0.5;
        double a = (w2 * xx) + b2, b = (w2 * zz) + b2, c = (w2 * xz) + b2;
        double l21 = c / Math.Sqrt(a), l22 = Math.Sqrt(b - (l21 * l21));
        var rng = new Random(12345);
        const int n = 400_000;
        double sf = 0, sff = 0, sg = 0, sgg = 0;
        for (int i = 0; i < n; i++)
        {
            double g1 = Gaussian(rng), g2 = Gaussian(rng);
            double u = Math.Sqrt(a) * g1, v = (l21 * g1) + (l22 * g2);
            double f = Math.Tanh(u) * Math.Tanh(v);
            double g = (1 - (Math.Tanh(u) * Math.Tanh(u))) * (1 - (Math.Tanh(v) * Math.Tanh(v)));
            sf += f;
            sff += f * f;
            sg += g;
            sgg += g * g;
        }

        double meanF = sf / n, meanG = sg / n;
        double seF = Math.Sqrt(((sff / n) - (meanF * meanF)) / n), seG = Math.Sqrt(((sgg / n) - (meanG * meanG)) / n);
        var value = new InfiniteWidthKernel(Activation.Tanh, 1, 1.3, 0.2).Evaluate(xx, zz, xz);
        double nngp = (w2 * meanF) + b2;
        value.Nngp.Should().BeApproximately(nngp, 4 * w2 * seF);
        value.Ntk.Should().BeApproximately(nngp + (w2 * meanG * c), 4 * w2 * (seF + (seG * c)));
    }

    [Fact]
    public void ReluNtkOverDepthTendsToAQuarterOfTheVarianceAtCriticalInit()
    {
        // σ_w² = 2, σ_b = 0: Σ_xx = 2·xᵀx/d at every layer, Θ_xx = (L+1)·Σ_xx exactly, and for ρ < 1 the correlation
        // approaches 1 as 1 − ρ_l ~ 9π²/(2l²), so σ_w²·E[φ′φ′] = 1 − θ_l/π ≈ 1 − 3/l and Θ_L/(L+1) → Σ_xx/4.
        var kernel = new InfiniteWidthKernel(Activation.Relu, 10_000, Math.Sqrt(2));
        kernel.Evaluate(1, 1, 1).Ntk.Should().BeApproximately(2.0 * 10_001, 1e-9 * 2.0 * 10_001);
        double previousGap = double.PositiveInfinity;
        foreach (int depth in new[] { 100, 1_000, 10_000 })
        {
            var r = (kernel with { Depth = depth }).EvaluateWithDerivatives(1, 1, 0.3);
            double perLayer = r.Ntk / (depth + 1);
            double gap = Math.Abs(perLayer - 0.5);
            gap.Should().BeLessThan(previousGap, $"depth {depth}");
            previousGap = gap;
            double.IsFinite(r.NtkPartials.Xx).Should().BeTrue();
            double.IsFinite(r.NtkPartials.Xz).Should().BeTrue();
        }

        previousGap.Should().BeLessThan(0.002);
    }

    [Theory]
    [InlineData("relu", 1.0, 0.0)]
    [InlineData("relu", 1.4142135623730951, 0.1)]
    [InlineData("leaky", 1.3, 0.05)]
    [InlineData("erf", 1.5, 0.1)]
    [InlineData("tanh", 1.0, 0.05)]
    [InlineData("gelu", 1.4, 0.0)]
    [InlineData("linear", 1.0, 0.0)]
    public void TenThousandLayersStayFinite(string name, double weightStd, double biasStd)
    {
        var kernel = new InfiniteWidthKernel(ActivationTests.Make(name), 10_000, weightStd, biasStd) { QuadratureOrder = 24 };
        foreach (double xz in new[] { 0.999999, 0.3, -0.5, 1.0 })
        {
            var r = kernel.EvaluateWithDerivatives(1, 1, xz);
            double[] all = [r.Nngp, r.Ntk, r.NngpPartials.Xx, r.NngpPartials.Zz, r.NngpPartials.Xz, r.NtkPartials.Xx, r.NtkPartials.Zz, r.NtkPartials.Xz];
            all.Should().OnlyContain(v => double.IsFinite(v), $"{kernel.Name} at xz = {xz}");
        }
    }

    [Fact]
    public void OverflowThrowsNamingTheLayer()
    {
        var kernel = new InfiniteWidthKernel(Activation.Relu, 10_000, 2);
        ((Action)(() => kernel.Evaluate(1, 1, 0.5))).Should().Throw<OverflowException>().WithMessage("*layer*");
    }

    [Fact]
    public void CuspAtParallelInputsHasFiniteZeroSingularPart()
    {
        var r = new InfiniteWidthKernel(Activation.Relu, 3, 1.2, 0.1).EvaluateWithDerivatives(1, 1, 1);
        double[] all = [r.NtkPartials.Xx, r.NtkPartials.Zz, r.NtkPartials.Xz];
        all.Should().OnlyContain(v => double.IsFinite(v));
    }

    [Fact]
    public void SymmetricInItsTwoInputs()
    {
        var kernel = new InfiniteWidthKernel(Activation.Gelu, 2, 1.1, 0.3);
        var p = kernel.EvaluateWithDerivatives(1.4, 0.6, -0.3);
        var q = kernel.EvaluateWithDerivatives(0.6, 1.4, -0.3);
        q.Ntk.Should().BeApproximately(p.Ntk, 1e-13);
        q.NtkPartials.Xx.Should().BeApproximately(p.NtkPartials.Zz, 1e-12);
        q.NtkPartials.Xz.Should().BeApproximately(p.NtkPartials.Xz, 1e-12);
    }

    [Fact]
    public void SpanAndVectorEvaluationsMatchTheScalarOne()
    {
        var kernel = new InfiniteWidthKernel(Activation.Erf, 3, 1.2, 0.1);
        double[] xx = [1, 0.5, 2], zz = [1, 1.5, 0.3], xz = [0.2, -0.8, 0.7];
        var nngp = new double[3];
        var ntk = new double[3];
        kernel.Evaluate(xx, zz, xz, nngp, ntk);
        for (int i = 0; i < 3; i++)
        {
            var v = kernel.Evaluate(xx[i], zz[i], xz[i]);
            nngp[i].Should().Be(v.Nngp);
            ntk[i].Should().Be(v.Ntk);
        }

        var derivatives = new NngpNtkDerivatives[3];
        kernel.EvaluateWithDerivatives(xx, zz, xz, derivatives);
        for (int i = 0; i < 3; i++)
        {
            derivatives[i].Should().Be(kernel.EvaluateWithDerivatives(xx[i], zz[i], xz[i]));
        }

        var x = Vector<double>.Build.Dense([1, 2, -1]);
        var z = Vector<double>.Build.Dense([0.5, 0, 2]);
        kernel.Evaluate(x, z).Should().Be(kernel.Evaluate(6.0 / 3, 4.25 / 3, -1.5 / 3));
    }

    [Fact]
    public void BadInputIsRejectedByName()
    {
        var kernel = new InfiniteWidthKernel(Activation.Relu, 2);
        ((Action)(() => kernel.Evaluate(-1, 1, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("xx");
        ((Action)(() => kernel.Evaluate(1, double.NaN, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("zz");
        ((Action)(() => kernel.Evaluate(1, 1, 1.1))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("xz");
        ((Action)(() => (kernel with { Depth = -1 }).Evaluate(1, 1, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Depth");
        ((Action)(() => (kernel with { WeightStd = double.NaN }).Evaluate(1, 1, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("WeightStd");
        ((Action)(() => (kernel with { BiasStd = -1 }).Evaluate(1, 1, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("BiasStd");
        ((Action)(() => (kernel with { QuadratureOrder = -3 }).Evaluate(1, 1, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("QuadratureOrder");
        ((Action)(() => kernel.Evaluate(new double[2], new double[2], new double[3], new double[3], new double[3]))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("xz");
    }

    private static NngpNtkValue Difference(NngpNtkValue plus, NngpNtkValue minus, double h) =>
        new((plus.Nngp - minus.Nngp) / (2 * h), (plus.Ntk - minus.Ntk) / (2 * h));

    private static void Close(double actual, double expected, string what) =>
        actual.Should().BeApproximately(expected, 1e-6 * Math.Max(1, Math.Abs(expected)), what);

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
