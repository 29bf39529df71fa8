using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using FeatureLearning.Tests.Networks;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Diagnostics;

/// <summary>
/// The spectral core of FeatureLearning.Diagnostics against dense eigendecompositions, closed forms and planted spectra:
/// Lanczos (ends, symmetric spectra, clusters, multiplicity, vectors, reproducibility), Hutchinson / Hutch++ / the
/// diagonal sketch, stochastic Lanczos quadrature, and the network operators against explicitly assembled matrices.
/// </summary>
public sealed class SpectralMethodsTests
{
    /// <summary>Q·diag(λ)·Qᵀ with a seeded random orthogonal Q.</summary>
    private static Matrix<double> WithSpectrum(double[] eigenvalues, int seed)
    {
        int n = eigenvalues.Length;
        var g = Matrix<double>.Build.DenseOfRowMajor(n, n, TestMatrices.Random(n, n, seed));
        var q = g.QR().Q;
        var a = q * Matrix<double>.Build.DenseOfDiagonalArray(eigenvalues) * q.Transpose();
        return (a + a.Transpose()) / 2;
    }

    private static double[] Sorted(Matrix<double> a) => a.Evd(Symmetricity.Symmetric).EigenValues.Select(v => v.Real).ToArray();

    public static TheoryData<string> Spectra() => ["random", "symmetric", "clustered"];

    private static double[] Spectrum(string kind, int n)
    {
        var rng = new Random(11);
        return kind switch
        {
            // ±λ pairs: the output Hessian of a ReLU network has such a spectrum (a Rayleigh-quotient power iteration stalls on it).
            "symmetric" => Enumerable.Range(0, n / 2).Select(i => 1 + (9.0 * i / n)).SelectMany(v => new[] { v, -v }).ToArray(),

            // Two clusters of close eigenvalues at each end, and a bulk.
            "clustered" => Enumerable.Range(0, n).Select(i => i < 6 ? 10 + (1e-3 * i) : i < 12 ? -10 - (1e-3 * i) : (rng.NextDouble() * 2) - 1).ToArray(),
            _ => Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 20) - 10).ToArray(),
        };
    }

    [Theory]
    [MemberData(nameof(Spectra))]
    public void LanczosMatchesAFullEigendecompositionAtBothEndsAndInMagnitude(string kind)
    {
        const int n = 80;
        var a = WithSpectrum(Spectrum(kind, n), 3);
        var exact = Sorted(a);
        var op = SymmetricOperator.Dense(a);
        var options = new LanczosOptions { MaxIterations = n, Tolerance = 1e-12 };

        var top = Lanczos.Eigenpairs(op, options with { Count = 10, Which = SpectrumEnd.Largest });
        top.Converged.Should().BeTrue();
        top.Eigenvalues.Should().Equal(exact.OrderByDescending(v => v).Take(10), (x, y) => Math.Abs(x - y) <= 1e-8);

        var bottom = Lanczos.Eigenpairs(op, options with { Count = 5, Which = SpectrumEnd.Smallest });
        bottom.Eigenvalues.Should().Equal(exact.OrderBy(v => v).Take(5), (x, y) => Math.Abs(x - y) <= 1e-8);

        var magnitude = Lanczos.Eigenpairs(op, options with { Count = 10, Which = SpectrumEnd.LargestMagnitude });
        magnitude.Eigenvalues.Select(Math.Abs).Should().Equal(exact.Select(Math.Abs).OrderByDescending(v => v).Take(10), (x, y) => Math.Abs(x - y) <= 1e-8);

        // The vectors: ‖Au − λu‖ ≤ 1e-8·‖A‖, unit norm, and the reported residuals bound the true ones.
        double norm = exact.Max(Math.Abs);
        for (int i = 0; i < 10; i++)
        {
            var u = top.Eigenvectors!.Column(i);
            u.L2Norm().Should().BeApproximately(1, 1e-10);
            ((a * u) - (top.Eigenvalues[i] * u)).L2Norm().Should().BeLessThan(1e-8 * norm);
        }
    }

    [Fact]
    public void OnASymmetricSpectrumTheLargestMagnitudePairIsBothEnds()
    {
        // The trap: a spectrum symmetric about 0. The two largest-magnitude eigenvalues are +9 and −9.
        var values = Enumerable.Range(0, 40).Select(i => 9.0 * (i + 1) / 40).SelectMany(v => new[] { v, -v }).ToArray();
        var result = Lanczos.Eigenpairs(SymmetricOperator.Dense(WithSpectrum(values, 5)), new LanczosOptions { Count = 2, MaxIterations = 80 });
        result.Converged.Should().BeTrue();
        result.Eigenvalues.Should().BeEquivalentTo(new[] { 9.0, -9.0 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-8)).WhenTypeIs<double>());
    }

    [Fact]
    public void RepeatedEigenvaluesAreFoundOncePerRestart()
    {
        // 5 with multiplicity 2 among distinct values, Krylov dimension up to n: found twice.
        var values = new[] { 5.0, 5.0, 3.0 }.Concat(Enumerable.Range(0, 27).Select(i => i / 27.0)).ToArray();
        var result = Lanczos.Eigenpairs(SymmetricOperator.Dense(WithSpectrum(values, 8)), new LanczosOptions { Count = 3, Which = SpectrumEnd.Largest, MaxIterations = 30 });
        result.Eigenvalues.Should().Equal([5.0, 5.0, 3.0], (x, y) => Math.Abs(x - y) <= 1e-8);

        // diag(3, 3, 2, 1, …, 1): the Krylov space is invariant at dimension 3 with one copy of 3; the restart's block must
        // converge before the fit is accepted, so the second 3 is found (not [3, 2]).
        var twice = Lanczos.Eigenpairs(SymmetricOperator.Dense(WithSpectrum(new[] { 3.0, 3.0, 2.0 }.Concat(Enumerable.Repeat(1.0, 27)).ToArray(), 9)), new LanczosOptions { Count = 2, Which = SpectrumEnd.Largest, MaxIterations = 30 });
        twice.Eigenvalues.Should().Equal([3.0, 3.0], (x, y) => Math.Abs(x - y) <= 1e-8);
        twice.Restarts.Should().BeGreaterThanOrEqualTo(1);
        twice.Converged.Should().BeTrue();

        // 2·I: every Krylov space is invariant after one step (β = 0 exactly), so each further eigenvalue takes a restart.
        var identity = Lanczos.Eigenpairs(SymmetricOperator.Dense(2 * Matrix<double>.Build.DenseIdentity(6)), new LanczosOptions { Count = 3, MaxIterations = 6 });
        identity.Eigenvalues.Should().Equal([2.0, 2.0, 2.0], (x, y) => Math.Abs(x - y) <= 1e-12);
        identity.Restarts.Should().BeGreaterThanOrEqualTo(2);
        identity.Eigenvectors!.TransposeThisAndMultiply(identity.Eigenvectors).Should().Match<Matrix<double>>(g => (g - Matrix<double>.Build.DenseIdentity(3)).FrobeniusNorm() < 1e-12, "the restarts give orthonormal eigenvectors");
    }

    [Fact]
    public void LanczosIsReproducibleBitForBitAndReportsProgress()
    {
        var op = SymmetricOperator.Dense(WithSpectrum(Spectrum("random", 60), 4));
        var reports = new List<LanczosProgress>();
        var first = Lanczos.Eigenpairs(op, new LanczosOptions { Count = 3, Seed = 7, MaxIterations = 60 }, new SynchronousProgress<LanczosProgress>(reports.Add));
        var second = Lanczos.Eigenpairs(op, new LanczosOptions { Count = 3, Seed = 7, MaxIterations = 60 });
        first.Eigenvalues.Should().Equal(second.Eigenvalues);
        first.Iterations.Should().Be(second.Iterations);
        reports.Should().NotBeEmpty().And.HaveCount(first.Iterations - 2);
        reports[^1].LargestRelativeResidual.Should().BeLessThanOrEqualTo(1e-10);
    }

    [Fact]
    public void BadArgumentsAndNonFiniteProductsAreRefused()
    {
        var a = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 }, { 0, 1 } });
        FluentActions.Invoking(() => SymmetricOperator.Dense(a)).Should().Throw<ArgumentException>().WithParameterName("matrix").WithMessage("*not symmetric*");
        var op = SymmetricOperator.Dense(Matrix<double>.Build.DenseIdentity(3));
        FluentActions.Invoking(() => Lanczos.Eigenpairs(op, new LanczosOptions { Count = 4 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Count*");
        var nan = SymmetricOperator.Dense(Matrix<double>.Build.DenseIdentity(3)) is var id ? new NaNAfter(id) : null;
        FluentActions.Invoking(() => Lanczos.Eigenpairs(nan!)).Should().Throw<NonFiniteOperatorException>();
        FluentActions.Invoking(() => TraceEstimator.Hutchinson(nan!, 10)).Should().Throw<NonFiniteOperatorException>();
    }

    [Fact]
    public void HutchPlusPlusBeatsHutchinsonAtTheSameNumberOfProductsOnALowRankPlusNoiseMatrix()
    {
        // Ten large eigenvalues (100 … 10) and a bulk of 190 small ones: Hutchinson's variance comes from the large ones,
        // which Hutch++ takes exactly.
        var rng = new Random(2);
        var values = Enumerable.Range(0, 10).Select(i => 100.0 - (10 * i)).Concat(Enumerable.Range(0, 190).Select(_ => rng.NextDouble() * 0.1)).ToArray();
        var op = SymmetricOperator.Dense(WithSpectrum(values, 6));
        double trace = values.Sum();
        double hutchinson = 0, hutchPlusPlus = 0;
        const int seeds = 20, products = 60;
        for (int seed = 0; seed < seeds; seed++)
        {
            hutchinson += Math.Abs(TraceEstimator.Hutchinson(op, products, seed).Value - trace);
            var plus = TraceEstimator.HutchPlusPlus(op, products, seed);
            plus.Products.Should().Be(products);
            hutchPlusPlus += Math.Abs(plus.Value - trace);
        }

        (hutchPlusPlus / seeds).Should().BeLessThan(0.1 * hutchinson / seeds, "Hutch++ removes the ten large eigenvalues' variance");
    }

    [Fact]
    public void HutchinsonIsWithinItsStandardErrorAndStopsOnAnAbsoluteRuleNearZeroTrace()
    {
        var rng = new Random(3);
        var values = Enumerable.Range(0, 100).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
        values[0] -= values.Sum(); // trace exactly 0: a relative-change rule divides by ~0 here
        var op = SymmetricOperator.Dense(WithSpectrum(values, 9));
        // Here Var(zᵀAz) = 2Σ_(i≠j) A_ij² ≈ 66, so a standard error of 0.3 takes about 730 probes.
        var estimate = TraceEstimator.Hutchinson(op, 2000, seed: 1, tolerance: 0.3);
        estimate.StandardError.Should().BeLessThanOrEqualTo(0.3);
        estimate.Products.Should().BeGreaterThanOrEqualTo(10).And.BeLessThan(2000);
        Math.Abs(estimate.Value).Should().BeLessThan(4 * estimate.StandardError);
    }

    [Fact]
    public void TheDiagonalSketchIsExactForADiagonalMatrixAndCloseOtherwise()
    {
        var d = Enumerable.Range(0, 30).Select(i => (double)(i - 10)).ToArray();
        var (diagonal, errors) = TraceEstimator.Diagonal(SymmetricOperator.Dense(Matrix<double>.Build.DenseOfDiagonalArray(d)), 4);
        diagonal.Should().Equal(d);
        errors.Should().OnlyContain(e => e == 0);

        var a = WithSpectrum(Spectrum("random", 30), 12) + (20 * Matrix<double>.Build.DenseIdentity(30));
        var (estimated, standardErrors) = TraceEstimator.Diagonal(SymmetricOperator.Dense(a), 4000, seed: 2);
        int within = Enumerable.Range(0, 30).Count(i => Math.Abs(estimated[i] - a[i, i]) <= 4 * standardErrors[i]);
        within.Should().BeGreaterThanOrEqualTo(29);
    }

    [Fact]
    public void StochasticLanczosQuadratureMatchesAKnownHistogram()
    {
        // 100 eigenvalues uniform in [0, 1] and 300 in [4, 5]: masses ¼ and ¾.
        var rng = new Random(4);
        var values = Enumerable.Range(0, 100).Select(_ => rng.NextDouble()).Concat(Enumerable.Range(0, 300).Select(_ => 4 + rng.NextDouble())).ToArray();
        var result = SpectralDensity.Estimate(SymmetricOperator.Dense(WithSpectrum(values, 13)), new SpectralDensityOptions { Runs = 20, Steps = 40, Seed = 1 });
        result.Weights.Sum().Should().BeApproximately(1, 1e-12, "each run's weights are the squared first components of an orthogonal matrix");
        result.Mass(-1, 2).Should().BeApproximately(0.25, 0.06);
        result.Mass(3, 6).Should().BeApproximately(0.75, 0.06);
        result.Nodes.Min().Should().BeGreaterThanOrEqualTo(values.Min() - 1e-9);
        result.Nodes.Max().Should().BeLessThanOrEqualTo(values.Max() + 1e-9);

        // The smoothed density integrates to 1 (trapezoid rule on its grid).
        double integral = 0;
        for (int g = 1; g < result.Grid.Count; g++)
        {
            integral += (result.Grid[g] - result.Grid[g - 1]) * (result.Density[g] + result.Density[g - 1]) / 2;
        }

        integral.Should().BeApproximately(1, 1e-3);
        result.Products.Should().Be(20 * 40);
    }

    [Fact]
    public void TheLossHessianTopEigenvalueEqualsTheExplicitHessians()
    {
        var arch = NetworkFixtures.Architecture(Activation.Tanh, Parameterization.Ntk, [4, 3]);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 3);
        var x = NetworkFixtures.Inputs(7, arch.InputDimension, 1);
        var y = NetworkFixtures.Targets(7, arch.OutputDimension, 2, oneHot: false);
        var op = SymmetricOperator.LossHessian(network, x, y, NetworkLoss.MeanSquaredError, batchSize: 3);
        var explicitHessian = Assemble(op);
        (explicitHessian - explicitHessian.Transpose()).FrobeniusNorm().Should().BeLessThan(1e-10, "exact HVPs give a symmetric Hessian");
        var exact = Sorted((explicitHessian + explicitHessian.Transpose()) / 2);

        // Batched (3 + 3 + 1 samples, weighted) equals unbatched.
        var whole = Assemble(SymmetricOperator.LossHessian(network, x, y));
        (explicitHessian - whole).FrobeniusNorm().Should().BeLessThan(1e-12 * whole.FrobeniusNorm());

        var top = Lanczos.Eigenpairs(op, new LanczosOptions { Count = 3, Which = SpectrumEnd.LargestMagnitude, MaxIterations = network.ParameterCount });
        top.Eigenvalues.Should().Equal(exact.OrderByDescending(Math.Abs).Take(3), (a, b) => Math.Abs(a - b) <= 1e-8);
    }

    [Fact]
    public void TheGaussNewtonNonzeroSpectrumIsTheTangentKernelsOverN()
    {
        var arch = NetworkFixtures.Architecture(Activation.Relu, Parameterization.Ntk, [5]);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 4);
        const int n = 5;
        var x = NetworkFixtures.Inputs(n, arch.InputDimension, 3);
        int nc = n * arch.OutputDimension;
        var ntk = Sorted(EmpiricalNtk.Compute(network, x)).OrderByDescending(v => v).ToArray();

        var ggn = Lanczos.Eigenpairs(SymmetricOperator.GaussNewton(network, x, batchSize: 2), new LanczosOptions { Count = nc, Which = SpectrumEnd.Largest, MaxIterations = network.ParameterCount });
        ggn.Eigenvalues.Should().Equal(ntk.Select(v => v / n), (a, b) => Math.Abs(a - b) <= 1e-9 * ntk[0]);

        // The tangent-kernel operator J(Jᵀv) has the NTK's spectrum (its rows are sample-major, EmpiricalNtk's output-major).
        var tangent = Sorted(Assemble(SymmetricOperator.TangentKernel(network, x))).OrderByDescending(v => v);
        tangent.Should().Equal(ntk, (a, b) => Math.Abs(a - b) <= 1e-10 * ntk[0]);
    }

    [Fact]
    public void TheOutputHessianAndAgopOperatorsEqualTheirMatrices()
    {
        var arch = NetworkFixtures.Architecture(Activation.Gelu, Parameterization.Standard, [3], c: 1);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 5);
        var x = NetworkFixtures.Inputs(1, arch.InputDimension, 4);
        var h = Assemble(SymmetricOperator.OutputHessian(network, x));
        var column = network.OutputHessianVectorProduct(x, Matrix<double>.Build.Dense(1, 1, 1), NetworkFixtures.Direction(network.ParameterCount, 6));
        (h * NetworkFixtures.Direction(network.ParameterCount, 6) - column).L2Norm().Should().BeLessThan(1e-12 * column.L2Norm());

        var g = Matrix<double>.Build.DenseOfRowMajor(9, 4, TestMatrices.Random(9, 4, 7));
        var agop = Assemble(SymmetricOperator.Agop(g));
        (agop - (g.TransposeThisAndMultiply(g) / 9)).FrobeniusNorm().Should().BeLessThan(1e-14);
    }

    private static Matrix<double> Assemble(ISymmetricOperator<double> op) => op.Apply(Matrix<double>.Build.DenseIdentity(op.Dimension));

    private sealed class NaNAfter(ISymmetricOperator<double> inner) : ISymmetricOperator<double>
    {
        public int Dimension => inner.Dimension;

        public Matrix<double> Apply(Matrix<double> vectors)
        {
            var result = inner.Apply(vectors);
            result[0, 0] = double.NaN;
            return result;
        }
    }

    private sealed class SynchronousProgress<TValue>(Action<TValue> handler) : IProgress<TValue>
    {
        public void Report(TValue value) => handler(value);
    }
}
