using FeatureLearning.Compute;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using FeatureLearning.Tests.Compute;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.Networks.NetworkFixtures;

namespace FeatureLearning.Tests.Ntk;

/// <summary>
/// <see cref="EmpiricalNtk"/> against J(X)·J(Z)ᵀ from the explicit Jacobians (every activation, both parameterisations,
/// depths 1–3, with and without biases, X ≠ Z and X = Z, per output and traced, float and double, blocked and unblocked,
/// host and device overloads), its device memory against <see cref="EmpiricalNtk.PeakElements"/> with a peak-tracking
/// backend, and the average over seeds of wide networks against the analytic NTK of <see cref="InfiniteWidthKernel"/>.
/// </summary>
public sealed class EmpiricalNtkTests
{
    private const int N = 5, M = 4, D = 3, C = 2;

    /// <summary>Every activation, both parameterisations, depths 1–3: the cases of the network's own derivative tests.</summary>
    public static TheoryData<ActivationKind, Parameterization, int> Cases() => FeatureLearning.Tests.Networks.NetworkDerivativeTests.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsTheGramOfTheExplicitJacobians(ActivationKind kind, Parameterization parameterization, int depth)
    {
        foreach (double biasStd in new[] { 0.0, 0.4 })
        {
            var arch = Architecture(ActivationOf(kind), parameterization, Depths[depth - 1], D, C) with { BiasStd = biasStd };
            using var network = FullyConnectedNetwork<double>.Create(arch, seed: 7 + depth, backend: Backend);
            var x = Inputs(N, D, 31 + depth);
            var z = Inputs(M, D, 41 + depth);
            var jx = network.Jacobian(x);
            var jz = network.Jacobian(z);
            foreach (bool same in new[] { false, true })
            {
                var other = same ? x : z;
                var jj = jx * (same ? jx : jz).Transpose();
                foreach (var mode in Enum.GetValues<EmpiricalNtkMode>())
                {
                    var expected = Rearrange(jj, N, other.RowCount, C, mode);
                    string what = $"{kind}, {parameterization}, depth {depth}, σ_b = {biasStd}, {(same ? "X = Z" : "X ≠ Z")}, {mode}";
                    CheckBoth(network, x, same ? null : z, expected, mode, what);
                    using var single = FullyConnectedNetwork<float>.FromParameters(arch, network.GetParameters().Map(v => (float)v), Backend);
                    var xf = x.Map(v => (float)v);
                    var actual = EmpiricalNtk.Compute(single, xf, same ? xf : z.Map(v => (float)v), new EmpiricalNtkOptions { Mode = mode, BlockSize = 3 });
                    RelativeError(actual.Map(v => (double)v), expected).Should().BeLessThan(1e-4, $"float, {what}");
                }
            }
        }
    }

    [Fact]
    public void BlocksMayBeRaggedAndTheDeviceOverloadAgrees()
    {
        var arch = Architecture(Activation.Tanh, Parameterization.Ntk, [5, 4], D, 3);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 3, backend: Backend);
        var x = Inputs(7, D, 1);
        var z = Inputs(6, D, 2);
        foreach (var mode in Enum.GetValues<EmpiricalNtkMode>())
        {
            var whole = EmpiricalNtk.Compute(network, x, z, new EmpiricalNtkOptions { Mode = mode });
            var expected = Rearrange(network.Jacobian(x) * network.Jacobian(z).Transpose(), 7, 6, 3, mode);
            RelativeError(whole, expected).Should().BeLessThan(1e-12);
            foreach (int blockSize in new[] { 1, 2, 4, 5, 8, 100 })
            {
                var options = new EmpiricalNtkOptions { Mode = mode, BlockSize = blockSize };
                RelativeError(EmpiricalNtk.Compute(network, x, z, options), whole).Should().BeLessThan(1e-13, $"blocks of {blockSize}, {mode}");
                RelativeError(EmpiricalNtk.Compute(network, x, null, options), EmpiricalNtk.Compute(network, x, null, options with { BlockSize = 1000 })).Should().BeLessThan(1e-13);
                using var dx = Backend.Upload<double>(x.ToRowMajorArray(), 7, D);
                using var dz = Backend.Upload<double>(z.ToRowMajorArray(), 6, D);
                int outputs = mode == EmpiricalNtkMode.PerOutput ? 3 : 1;
                using var result = Backend.Allocate<double>(outputs * 7, outputs * 6);
                EmpiricalNtk.Compute(network, dx, dz, result, options);
                RelativeError(Download(result), whole).Should().BeLessThan(1e-13, $"device, blocks of {blockSize}, {mode}");
                using var square = Backend.Allocate<double>(outputs * 7, outputs * 7);
                EmpiricalNtk.Compute(network, dx, dx, square, options);
                RelativeError(Download(square), EmpiricalNtk.Compute(network, x, x, options)).Should().BeLessThan(1e-13, $"device, X = Z, blocks of {blockSize}, {mode}");
            }
        }
    }

    [Fact]
    public void ALinearModelHasTheKernelOfItsInputs()
    {
        // No hidden layer: Θ_kk′(x, z) = δ_kk′·(a²·xᵀz + c²), from the readout alone.
        var arch = Architecture(Activation.Relu, Parameterization.Ntk, [], D, C);
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 5, backend: Backend);
        var x = Inputs(N, D, 6);
        var z = Inputs(M, D, 7);
        var expected = Rearrange(network.Jacobian(x) * network.Jacobian(z).Transpose(), N, M, C, EmpiricalNtkMode.PerOutput);
        double a = arch.WeightStd * arch.OutputScale / Math.Sqrt(D), c = arch.BiasStd * arch.OutputScale;
        var inputKernel = (a * a * x * z.Transpose()).Map(v => v + (c * c));
        RelativeError(expected.SubMatrix(0, N, 0, M), inputKernel).Should().BeLessThan(1e-12, "the reference itself");
        foreach (int blockSize in new[] { 1, 3, 2048 })
        {
            RelativeError(EmpiricalNtk.Compute(network, x, z, new EmpiricalNtkOptions { BlockSize = blockSize }), expected).Should().BeLessThan(1e-12);
            RelativeError(EmpiricalNtk.Compute(network, x, z, new EmpiricalNtkOptions { Mode = EmpiricalNtkMode.Traced, BlockSize = blockSize }), C * inputKernel).Should().BeLessThan(1e-12);
        }
    }

    [Fact]
    public void DeviceMemoryDoesNotGrowWithTheNumberOfSamplesAndTheFlopsAreCounted()
    {
        var arch = Architecture(Activation.Relu, Parameterization.Ntk, [6, 5, 4], 4, 3);
        using var reference = FullyConnectedNetwork<double>.Create(arch, seed: 1, backend: Backend);
        foreach (var mode in Enum.GetValues<EmpiricalNtkMode>())
        {
            var options = new EmpiricalNtkOptions { Mode = mode, BlockSize = 6 };
            long predicted = EmpiricalNtk.PeakElements(arch, options);
            foreach (int n in new[] { 12, 30, 61 })
            {
                foreach (bool same in new[] { false, true })
                {
                    var tracker = new PeakTrackingBackend(Backend);
                    using var network = FullyConnectedNetwork<double>.FromParameters(arch, reference.GetParameters(), tracker);
                    var x = Inputs(n, 4, n);
                    EmpiricalNtk.Compute(network, x, same ? null : Inputs(n + 3, 4, n + 1), options);
                    (tracker.PeakElements - network.ParameterCount).Should().Be(predicted, $"n = {n}, {mode}, {(same ? "X = Z" : "X ≠ Z")}");
                    tracker.GemmFlops.Should().Be(EmpiricalNtk.GemmFlops(arch, n, same ? n : n + 3, same, options), "the benchmark's flop count is that of the GEMMs run");
                }
            }
        }
    }

    [Fact]
    public void TheDeviceOverloadHoldsItsResultAndTheBlocksOnly()
    {
        var arch = Architecture(Activation.Gelu, Parameterization.Standard, [5, 4], 4, 3);
        using var reference = FullyConnectedNetwork<double>.Create(arch, seed: 4, backend: Backend);
        foreach (var mode in Enum.GetValues<EmpiricalNtkMode>())
        {
            var options = new EmpiricalNtkOptions { Mode = mode, BlockSize = 6 };
            int outputs = mode == EmpiricalNtkMode.PerOutput ? 3 : 1;
            long downloadBlock = (long)options.BlockSize * options.BlockSize; // 6 = 3 outputs x 2 samples per output
            long inputBlocks = 2L * (outputs == 3 ? 2 : 6) * 4; // the inputs are views here, not uploads
            foreach (int n in new[] { 12, 31 })
            {
                var tracker = new PeakTrackingBackend(Backend);
                using var network = FullyConnectedNetwork<double>.FromParameters(arch, reference.GetParameters(), tracker);
                using var x = tracker.Upload<double>(Inputs(n, 4, n).ToRowMajorArray(), n, 4);
                using var z = tracker.Upload<double>(Inputs(n + 2, 4, n + 1).ToRowMajorArray(), n + 2, 4);
                using var result = tracker.Allocate<double>(outputs * n, outputs * (n + 2));
                EmpiricalNtk.Compute(network, x, z, result, options);
                (tracker.PeakElements - network.ParameterCount - x.Length - z.Length - result.Length).Should().Be(EmpiricalNtk.PeakElements(arch, options) - downloadBlock - inputBlocks, $"n = {n}, {mode}");
            }
        }

        // The issue's size: three hidden layers of width 1,024, n = 20,000, in double, result on the device.
        var wide = new NetworkArchitecture { InputDimension = 100, HiddenWidths = [1024, 1024, 1024] };
        long elements = EmpiricalNtk.PeakElements(wide) + (20_000L * 20_000);
        (elements * sizeof(double)).Should().BeLessThan(8L << 30, "n = 20,000 fits in 8 GiB");
    }

    [Fact]
    public void ReportsProgressPerBlockAndHonoursCancellation()
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Erf, Parameterization.Standard, [3], D, 1), seed: 2, backend: Backend);
        var x = Inputs(5, D, 1);
        var reports = new List<EmpiricalNtkProgress>();
        EmpiricalNtk.Compute(network, x, null, new EmpiricalNtkOptions { BlockSize = 2 }, new SynchronousProgress<EmpiricalNtkProgress>(reports.Add));
        reports.Should().Equal(Enumerable.Range(1, 6).Select(i => new EmpiricalNtkProgress(i, 6)), "3 row blocks, 3 + 2 + 1 pairs on and above the diagonal");

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var act = () => EmpiricalNtk.Compute(network, x, cancellationToken: cancelled.Token);
        act.Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public void RejectsBadInputsNamingTheArgument()
    {
        using var network = FullyConnectedNetwork<double>.Create(Architecture(Activation.Relu, Parameterization.Ntk, [3], D, C), seed: 2, backend: Backend);
        var x = Inputs(4, D, 1);
        var nan = x.Clone();
        nan[1, 1] = double.NaN;
        FluentActions.Invoking(() => EmpiricalNtk.Compute(network, Inputs(4, D + 1, 1))).Should().Throw<ArgumentException>().WithParameterName("x");
        FluentActions.Invoking(() => EmpiricalNtk.Compute(network, nan)).Should().Throw<ArgumentException>().WithParameterName("x");
        FluentActions.Invoking(() => EmpiricalNtk.Compute(network, x, nan)).Should().Throw<ArgumentException>().WithParameterName("z");
        FluentActions.Invoking(() => EmpiricalNtk.Compute(network, x, null, new EmpiricalNtkOptions { BlockSize = 0 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("BlockSize");
        using var dx = Backend.Upload<double>(x.ToRowMajorArray(), 4, D);
        using var wrong = Backend.Allocate<double>(4, 4);
        FluentActions.Invoking(() => EmpiricalNtk.Compute(network, dx, dx, wrong)).Should().Throw<ArgumentException>().WithParameterName("result");
        using var narrow = Backend.Allocate<double>(4, D - 1);
        FluentActions.Invoking(() => EmpiricalNtk.Compute(network, dx, narrow, wrong)).Should().Throw<ArgumentException>().WithParameterName("z");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void WideNetworksApproachTheAnalyticNtkLikeOneOverSquareRootWidth(int depth)
    {
        // NTK parameterisation, ReLU: E[Θ_empirical] → Θ_analytic, fluctuations O(1/√width).
        const int d = 4, n = 4, seeds = 5;
        double weightStd = Math.Sqrt(2), biasStd = 0.3;
        var x = Inputs(n, d, 5);
        var analytic = Matrix<double>.Build.Dense(n, n, (i, j) => new InfiniteWidthKernel(Activation.Relu, depth, weightStd, biasStd).Evaluate(x.Row(i), x.Row(j)).Ntk);
        (double MeanGap, double RmsGap) Gaps(int width)
        {
            var arch = new NetworkArchitecture { InputDimension = d, HiddenWidths = Enumerable.Repeat(width, depth).ToArray(), WeightStd = weightStd, BiasStd = biasStd };
            var mean = Matrix<double>.Build.Dense(n, n);
            double squares = 0;
            for (int seed = 0; seed < seeds; seed++)
            {
                using var network = FullyConnectedNetwork<double>.Create(arch, seed, backend: Backend);
                var theta = EmpiricalNtk.Compute(network, x);
                mean += theta / seeds;
                squares += Math.Pow((theta - analytic).FrobeniusNorm() / analytic.FrobeniusNorm(), 2);
            }

            return ((mean - analytic).FrobeniusNorm() / analytic.FrobeniusNorm(), Math.Sqrt(squares / seeds));
        }

        var wide = Gaps(4096);
        var narrow = Gaps(256);
        wide.MeanGap.Should().BeLessThan(0.05, "the 5-seed mean at width 4,096 is within 5% of the analytic NTK");
        double ratio = narrow.RmsGap / wide.RmsGap;
        ratio.Should().BeInRange(2, 8, $"16 times the width divides the fluctuations by about √16 = 4 (gaps {narrow.RmsGap:G3} and {wide.RmsGap:G3})");
    }

    /// <summary>J(X)·J(Z)ᵀ (rows i·c + k, sample-major) in the layout of <see cref="EmpiricalNtk"/> (output-major, or traced).</summary>
    private static Matrix<double> Rearrange(Matrix<double> jj, int n, int m, int c, EmpiricalNtkMode mode) => mode == EmpiricalNtkMode.PerOutput
        ? Matrix<double>.Build.Dense(c * n, c * m, (r, s) => jj[((r % n) * c) + (r / n), ((s % m) * c) + (s / m)])
        : Matrix<double>.Build.Dense(n, m, (i, j) => Enumerable.Range(0, c).Sum(k => jj[(i * c) + k, (j * c) + k]));

    private static void CheckBoth(FullyConnectedNetwork<double> network, Matrix<double> x, Matrix<double>? z, Matrix<double> expected, EmpiricalNtkMode mode, string what)
    {
        var unblocked = EmpiricalNtk.Compute(network, x, z, new EmpiricalNtkOptions { Mode = mode });
        RelativeError(unblocked, expected).Should().BeLessThan(1e-12, what);
        var blocked = EmpiricalNtk.Compute(network, x, z, new EmpiricalNtkOptions { Mode = mode, BlockSize = 2 });
        RelativeError(blocked, unblocked).Should().BeLessThan(1e-13, $"blocked, {what}");
    }

    private static Matrix<double> Download(DeviceBuffer<double> buffer)
    {
        var host = new double[buffer.Length];
        Backend.Download(buffer, host);
        return Matrix<double>.Build.DenseOfRowMajor(buffer.Rows, buffer.Cols, host);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
