using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// The conformance suite every backend runs: each operation against a naive double-precision reference
/// (1e-10 relative in double, 1e-4 in single) over odd shapes, both precisions, and the error contract.
/// A backend's test project subclasses it and supplies <see cref="CreateBackend"/>.
/// </summary>
public abstract partial class BackendConformanceTests : IDisposable
{
    private readonly Lazy<IComputeBackend> backend;

    protected BackendConformanceTests() => backend = new Lazy<IComputeBackend>(CreateBackend);

    protected IComputeBackend Backend
    {
        get
        {
            Skip.If(SkipReason is not null, SkipReason);
            return backend.Value;
        }
    }

    /// <summary>Why the backend cannot run here (null when it can): every test of the suite is then skipped with this reason.</summary>
    protected virtual string? SkipReason => null;

    /// <summary>Creates the backend under test.</summary>
    protected abstract IComputeBackend CreateBackend();

    public void Dispose()
    {
        if (backend.IsValueCreated)
        {
            backend.Value.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    // m, n, k: 1x1, primes, non-multiples of the register tile and of the cache blocks (KC = 256–512 and MC = MR by CPU; GemmBlockingTests forces small blocks).
    public static TheoryData<int, int, int, bool, bool> GemmShapes()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        // The last shape has a small C and a long k, which the managed GEMM splits between its threads; one and two columns
        // take the managed GEMM's matrix-vector paths (serial below 2¹⁶ elements of A, threaded above), 5 and 10 columns its
        // streamed few-column product (A untransposed, k ≥ 64) and 30 columns the packed path.
        int[][] shapes = [[1, 1, 1], [7, 13, 11], [37, 53, 29], [200, 97, 300], [9, 500, 3], [129, 131, 257], [1, 67, 2], [65, 1, 70], [300, 1, 700], [65, 2, 70], [300, 2, 700], [300, 10, 70], [300, 5, 70], [250, 30, 40], [37, 53, 3001]];
        foreach (var s in shapes)
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    data.Add(s[0], s[1], s[2], ta, tb);
                }
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(GemmShapes))]
    public void GemmDoubleMatchesReference(int m, int n, int k, bool ta, bool tb) => CheckGemm<double>(m, n, k, ta, tb);

    [SkippableTheory]
    [MemberData(nameof(GemmShapes))]
    public void GemmSingleMatchesReference(int m, int n, int k, bool ta, bool tb) => CheckGemm<float>(m, n, k, ta, tb);

    private void CheckGemm<T>(int m, int n, int k, bool ta, bool tb)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        var a = Random(aRows, aCols, 1);
        var b = Random(bRows, bCols, 2);
        var c = Random(m, n, 3);
        using var ab = Backend.Upload<T>(Cast<T>(a), aRows, aCols);
        using var bb = Backend.Upload<T>(Cast<T>(b), bRows, bCols);
        using var cb = Backend.Upload<T>(Cast<T>(c), m, n);
        Backend.Gemm(ta ? Transpose.Transpose : Transpose.None, tb ? Transpose.Transpose : Transpose.None, T.CreateTruncating(0.75), ab, bb, T.CreateTruncating(-0.5), cb);
        var expected = Gemm(ta, tb, m, n, k, 0.75, a, aCols, b, bCols, -0.5, c);
        RelativeError(Download(Backend, cb), expected).Should().BeLessThan(Tolerance<T>());
    }

    [SkippableTheory]
    [MemberData(nameof(GemmShapes))]
    public void GemmWithBetaZeroOverwritesCOfAnyContent(int m, int n, int k, bool ta, bool tb)
    {
        // β = 0 over every shape (full and edge register tiles, several k-panels): C starts as NaN, which must not survive.
        CheckGemmBetaZero<double>(m, n, k, ta, tb);
        CheckGemmBetaZero<float>(m, n, k, ta, tb);
    }

    private void CheckGemmBetaZero<T>(int m, int n, int k, bool ta, bool tb)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        var a = Random(aRows, aCols, 4);
        var b = Random(bRows, bCols, 5);
        using var ab = Backend.Upload<T>(Cast<T>(a), aRows, aCols);
        using var bb = Backend.Upload<T>(Cast<T>(b), bRows, bCols);
        using var cb = Backend.Upload<T>(Enumerable.Repeat(T.NaN, m * n).ToArray(), m, n);
        Backend.Gemm(ta ? Transpose.Transpose : Transpose.None, tb ? Transpose.Transpose : Transpose.None, T.CreateTruncating(1.25), ab, bb, T.Zero, cb);
        var expected = Gemm(ta, tb, m, n, k, 1.25, a, aCols, b, bCols, 0, new double[m * n]);
        RelativeError(Download(Backend, cb), expected).Should().BeLessThan(Tolerance<T>());
    }

    [SkippableFact]
    public void GemmWithBetaZeroIgnoresNaNInC()
    {
        using var a = Backend.Upload<double>(Random(5, 4, 1), 5, 4);
        using var b = Backend.Upload<double>(Random(4, 3, 2), 4, 3);
        using var c = Backend.Upload<double>(Enumerable.Repeat(double.NaN, 15).ToArray(), 5, 3);
        Backend.Gemm(Transpose.None, Transpose.None, 1.0, a, b, 0.0, c);
        Download(Backend, c).Should().OnlyContain(v => double.IsFinite(v));
    }

    [SkippableTheory]
    [InlineData(1, 1, false)]
    [InlineData(13, 7, false)]
    [InlineData(13, 7, true)]
    [InlineData(150, 301, false)]
    [InlineData(211, 97, true)]
    [InlineData(61, 3001, false)]
    [InlineData(37, 3001, true)]
    public void SyrkMatchesReference(int n, int k, bool transpose)
    {
        CheckSyrk<double>(n, k, transpose);
        CheckSyrk<float>(n, k, transpose);
    }

    private void CheckSyrk<T>(int n, int k, bool transpose)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = transpose ? k : n, cols = transpose ? n : k;
        var a = Random(rows, cols, 4);
        var c = Spd(n, 5, 1.0);
        using var ab = Backend.Upload<T>(Cast<T>(a), rows, cols);
        using var cb = Backend.Upload<T>(Cast<T>(c), n, n);
        Backend.Syrk(transpose ? Transpose.Transpose : Transpose.None, T.CreateTruncating(1.5), ab, T.CreateTruncating(0.25), cb);
        var expected = Gemm(transpose, !transpose, n, n, k, 1.5, a, cols, a, cols, 0.25, c);
        RelativeError(Download(Backend, cb), expected).Should().BeLessThan(Tolerance<T>());
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(191)]
    [InlineData(192)]
    [InlineData(193)]
    [InlineData(337)]
    [InlineData(450)]
    public void CholeskyFactorReconstructsAndKeepsUpperTriangle(int n)
    {
        CheckCholesky<double>(n);
        CheckCholesky<float>(n);
    }

    private void CheckCholesky<T>(int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = Spd(n, 6, 0.5);
        using var buffer = Backend.Upload<T>(Cast<T>(a), n, n);
        var report = Backend.CholeskyFactor(buffer);
        report.Should().Be(new CholeskyReport(1, 0, -1));
        var f = Download(Backend, buffer);
        var l = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (j <= i)
                {
                    l[(i * n) + j] = f[(i * n) + j];
                }
                else
                {
                    f[(i * n) + j].Should().Be(double.CreateTruncating(T.CreateTruncating(a[(i * n) + j])), "the strictly upper triangle is left as it was");
                }
            }
        }

        var llt = Gemm(false, true, n, n, n, 1, l, n, l, n, 0, new double[n * n]);
        RelativeError(llt, a).Should().BeLessThan(Tolerance<T>());
    }

    [SkippableTheory]
    [InlineData(1, 1)]
    [InlineData(37, 3)]
    [InlineData(400, 5)]
    [InlineData(193, 1)]
    [InlineData(700, 1)]
    [InlineData(300, 20)]
    public void CholeskySolveMatchesDirectSolve(int n, int c)
    {
        CheckSolve<double>(n, c);
        CheckSolve<float>(n, c);
    }

    private void CheckSolve<T>(int n, int c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = Spd(n, 7, 1.0);
        var b = Random(n, c, 8);
        using var ab = Backend.Upload<T>(Cast<T>(a), n, n);
        using var bb = Backend.Upload<T>(Cast<T>(b), n, c);
        Backend.CholeskyFactor(ab);
        Backend.CholeskySolve(ab, bb);
        var expected = Matrix<double>.Build.DenseOfRowMajor(n, n, a).Solve(Matrix<double>.Build.DenseOfRowMajor(n, c, b)).ToRowMajorArray();
        RelativeError(Download(Backend, bb), expected).Should().BeLessThan(10 * Tolerance<T>());
        if (Backend is CpuBackend cpu)
        {
            CheckTriangularSolve(cpu, ab, b, c);
        }
    }

    /// <summary>
    /// A CPU backend's one-sided solves with the factor L and with Lᵀ (the Nyström preconditioner's) against MathNet's
    /// triangular solve with L taken from the factor's lower triangle; the factor's upper triangle still holds A, which the
    /// solve must not read.
    /// </summary>
    private static void CheckTriangularSolve<T>(CpuBackend cpu, DeviceBuffer<T> factorBuffer, double[] b, int c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = factorBuffer.Rows;
        var factor = Download(cpu, factorBuffer);
        var l = Matrix<double>.Build.Dense(n, n, (i, j) => j <= i ? factor[(i * n) + j] : 0);
        foreach (bool transpose in new[] { false, true })
        {
            using var bb = cpu.Upload<T>(Cast<T>(b), n, c);
            cpu.TriangularSolve(factorBuffer, bb, transpose);
            var expected = (transpose ? l.Transpose() : l).Solve(Matrix<double>.Build.DenseOfRowMajor(n, c, b)).ToRowMajorArray();
            RelativeError(Download(cpu, bb), expected).Should().BeLessThan(10 * Tolerance<T>(), $"transpose = {transpose}");
        }
    }

    [SkippableFact]
    public void CholeskyAddsJitterToASingularMatrixAndReportsIt()
    {
        // A = G Gᵀ with G of rank 3: positive semi-definite, singular.
        const int n = 60, r = 3;
        var g = Random(n, r, 9);
        var a = Gemm(false, true, n, n, r, 1, g, r, g, r, 0, new double[n * n]);
        using var buffer = Backend.Upload<double>(a, n, n);
        var report = Backend.CholeskyFactor(buffer);
        report.JitterAdded.Should().BeTrue();
        report.Attempts.Should().BeGreaterThan(1);
        report.FirstFailedPivot.Should().BeInRange(r, n - 1);

        // The factor is that of A + jitter·I.
        var f = Download(Backend, buffer);
        var l = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                l[(i * n) + j] = f[(i * n) + j];
            }
        }

        var llt = Gemm(false, true, n, n, n, 1, l, n, l, n, 0, new double[n * n]);
        for (int i = 0; i < n; i++)
        {
            a[(i * n) + i] += report.Jitter;
        }

        RelativeError(llt, a).Should().BeLessThan(1e-8);
    }

    [SkippableFact]
    public void CholeskyWithoutJitterThrowsOnASingularMatrix()
    {
        var a = new double[] { 1, 1, 1, 1 };
        using var buffer = Backend.Upload<double>(a, 2, 2);
        var act = () => Backend.CholeskyFactor(buffer, CholeskyOptions.NoJitter);
        act.Should().Throw<MatrixNotPositiveDefiniteException>().Which.FailedPivot.Should().Be(1);
    }

    [SkippableFact]
    public void CholeskyThrowsOnIndefiniteAndNaNMatrices()
    {
        using var negative = Backend.Upload<double>([-1, 0, 0, -1], 2, 2);
        ((Action)(() => Backend.CholeskyFactor(negative))).Should().Throw<MatrixNotPositiveDefiniteException>().Which.Attempts.Should().Be(9);
        using var nan = Backend.Upload<double>([1, double.NaN, double.NaN, 1], 2, 2);
        ((Action)(() => Backend.CholeskyFactor(nan))).Should().Throw<MatrixNotPositiveDefiniteException>();
    }

    [SkippableFact]
    public void SymmetricEigenDecomposes()
    {
        const int n = 30;
        var a = Spd(n, 10, -0.3); // symmetric, some eigenvalues negative
        using var ab = Backend.Upload<double>(a, n, n);
        using var values = Backend.Allocate<double>(n, 1);
        using var vectors = Backend.Allocate<double>(n, n);
        Backend.SymmetricEigen(ab, values, vectors);
        var lambda = Download(Backend, values);
        var v = Download(Backend, vectors);
        lambda.Should().BeInAscendingOrder();
        var av = Gemm(false, false, n, n, n, 1, a, n, v, n, 0, new double[n * n]);
        var vl = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                vl[(i * n) + j] = v[(i * n) + j] * lambda[j];
            }
        }

        RelativeError(av, vl).Should().BeLessThan(1e-10);
        var vtv = Gemm(true, false, n, n, n, 1, v, n, v, n, 0, new double[n * n]);
        var identity = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            identity[(i * n) + i] = 1;
        }

        RelativeError(vtv, identity).Should().BeLessThan(1e-10);
    }

    public static TheoryData<string, string> KernelCases()
    {
        var data = new TheoryData<string, string>();
        foreach (string kernel in new[] { "laplace", "gaussian", "genlaplace", "polynomial" })
        {
            foreach (string metric in new[] { "identity", "diagonal", "full" })
            {
                data.Add(kernel, metric);
            }
        }

        return data;
    }

    internal static IKernelFunction MakeKernel(string name) => name switch
    {
        "laplace" => new LaplaceKernel(2.0),
        "gaussian" => new GaussianKernel(1.5),
        "genlaplace" => new GeneralizedLaplaceKernel(1.7, 1.3),
        "normgaussian" => new NormGaussianKernel(1.5),
        "normpolynomial" => new NormPolynomialKernel(0.3),
        "ntk" => FeatureLearning.Ntk.NeuralKernel.Ntk(new FeatureLearning.Ntk.InfiniteWidthKernel(FeatureLearning.Networks.Activation.Erf, 2, 1.3, 0.3), 4),
        _ => new PolynomialKernel(3, 0.5),
    };

    internal static Metric MakeMetric(string name, int d) => name switch
    {
        "identity" => Metric.Identity,
        "diagonal" => Metric.Diagonal(Enumerable.Range(0, d).Select(i => 0.2 + (0.3 * i)).ToArray()),
        _ => Metric.Full(MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(d, d, Spd(d, 11, 0.1))),
    };

    [SkippableTheory]
    [MemberData(nameof(KernelCases))]
    public void KernelMatrixMatchesPerPairEvaluation(string kernelName, string metricName)
    {
        CheckKernelMatrix<double>(kernelName, metricName, "dense");
        CheckKernelMatrix<float>(kernelName, metricName, "dense");
    }

    /// <summary>
    /// Sparse inputs (two non-zeros of random value in 32 columns per row, as one-hot pairs; in "mixed", every fourth row of
    /// Z has one): CPU backends sum over the non-zeros instead of a GEMM and, for radial kernels, leave such data uncentred.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(KernelCases))]
    public void KernelMatrixOfSparseInputsMatchesPerPairEvaluation(string kernelName, string metricName)
    {
        foreach (string inputs in new[] { "pairs", "mixed" })
        {
            CheckKernelMatrix<double>(kernelName, metricName, inputs);
            CheckKernelMatrix<float>(kernelName, metricName, inputs);
        }
    }

    /// <summary>Rows of two non-zeros, one in each half of the columns, with values in [0.5, 1.5); every <paramref name="single"/>-th row has only the first.</summary>
    internal static double[] PairInputs(int rows, int d, int seed, int single = int.MaxValue)
    {
        var rng = new Random(seed);
        var x = new double[rows * d];
        for (int i = 0; i < rows; i++)
        {
            x[(i * d) + rng.Next(d / 2)] = 0.5 + rng.NextDouble();
            double second = 0.5 + rng.NextDouble();
            x[(i * d) + (d / 2) + rng.Next(d / 2)] = i % single == single - 1 ? 0 : second;
        }

        return x;
    }

    private void CheckKernelMatrix<T>(string kernelName, string metricName, string inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 37, m = 29;
        bool sparse = inputs != "dense";
        int d = sparse ? 32 : 5;
        var kernel = MakeKernel(kernelName);
        var metric = MakeMetric(metricName, d);
        var x = Cast<T>(sparse ? PairInputs(n, d, 12) : Random(n, d, 12));
        var z = Cast<T>(sparse ? PairInputs(m, d, 13, inputs == "mixed" ? 4 : int.MaxValue) : Random(m, d, 13));
        using var xb = Backend.Upload<T>(x, n, d);
        using var zb = Backend.Upload<T>(z, m, d);
        using var mb = metric.Upload<T>(Backend);
        using var kb = Backend.Allocate<T>(n, m);
        using var wb = Backend.Allocate<T>(n, m);
        Backend.KernelMatrix(kernel, xb, zb, mb, kb, wb);

        var xd = ToDouble(x);
        var zd = ToDouble(z);
        var expectedK = new double[n * m];
        var expectedW = new double[n * m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                var xi = xd.AsSpan(i * d, d);
                var zj = zd.AsSpan(j * d, d);
                double u = kernel.Geometry == KernelGeometry.Radial ? metric.SquaredDistance(xi, zj) : metric.InnerProduct(xi, zj);
                expectedK[(i * m) + j] = kernel.Value(u);
                expectedW[(i * m) + j] = kernel.Derivative(u);
            }
        }

        RelativeError(Download(Backend, kb), expectedK).Should().BeLessThan(Tolerance<T>());
        RelativeError(Download(Backend, wb), expectedW).Should().BeLessThan(Tolerance<T>() * 10);
    }

    public static TheoryData<string, string> RadialKernelCases()
    {
        var data = new TheoryData<string, string>();
        foreach (string kernel in new[] { "laplace", "gaussian", "genlaplace" })
        {
            foreach (string metric in new[] { "identity", "diagonal", "full" })
            {
                data.Add(kernel, metric);
            }
        }

        return data;
    }

    /// <summary>
    /// Radial kernels are shift-invariant: data far from the origin (x + 10⁷ in double, x + 30 in single) gives the
    /// kernel matrix of the unshifted data, up to the rounding of the shifted inputs themselves. Without centring,
    /// ‖x‖² + ‖z‖² − 2xᵀMz cancels: errors of order 1 in double at 10⁷ and 0.16 in single at 30 were measured.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(RadialKernelCases))]
    public void RadialKernelMatrixIsShiftInvariant(string kernelName, string metricName)
    {
        CheckShiftedKernelMatrix<double>(kernelName, metricName, shift: 1e7, tolerance: 1e-7);
        CheckShiftedKernelMatrix<float>(kernelName, metricName, shift: 30, tolerance: 2e-3);
    }

    private void CheckShiftedKernelMatrix<T>(string kernelName, string metricName, double shift, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 23, m = 19, d = 4;
        var kernel = MakeKernel(kernelName);
        var metric = MakeMetric(metricName, d);
        var x = Random(n, d, 21);
        var z = Random(m, d, 22);
        var xs = x.Select(v => v + shift).ToArray();
        var zs = z.Select(v => v + shift).ToArray();
        MaxKernelError<T>(kernel, metric, x, z, xs, zs, d).Should().BeLessThan(tolerance, $"{typeof(T).Name}, shift {shift}");
    }

    /// <summary>
    /// Sparse data whose mean is small in the Euclidean norm but large in the metric's (pairs plus a column of ones weighted
    /// 10⁶ by a diagonal M) is still centred: uncentred, its squared M-norms are about 10⁶ and single precision would lose
    /// the distances of order 1 between the pairs.
    /// </summary>
    [SkippableTheory]
    [InlineData("gaussian")]
    [InlineData("laplace")]
    public void SparseDataWithALargeMeanInTheMetricIsCentred(string kernelName)
    {
        const int n = 23, m = 19, d = 49;
        var kernel = MakeKernel(kernelName);
        var metric = Metric.Diagonal(Enumerable.Range(0, d).Select(i => i == 0 ? 1e6 : 1.0).ToArray());
        double[] Ones(double[] pairs, int rows) =>
            Enumerable.Range(0, rows).SelectMany(i => pairs.Skip(i * (d - 1)).Take(d - 1).Prepend(1.0)).ToArray();
        var x = Ones(PairInputs(n, d - 1, 41), n);
        var z = Ones(PairInputs(m, d - 1, 42), m);
        MaxKernelError<float>(kernel, metric, x, z, x, z, d).Should().BeLessThan(1e-4);
    }

    /// <summary>
    /// The largest absolute error of the backend's kernel matrix K(X', Z') (in <typeparamref name="T"/>) against the kernel
    /// of X and Z evaluated pair by pair in double: X' and Z' are the inputs given to the backend, X and Z the reference's.
    /// </summary>
    private double MaxKernelError<T>(IKernelFunction kernel, Metric metric, double[] x, double[] z, double[] xBackend, double[] zBackend, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length / d, m = z.Length / d;
        using var xb = Backend.Upload<T>(Cast<T>(xBackend), n, d);
        using var zb = Backend.Upload<T>(Cast<T>(zBackend), m, d);
        using var mb = metric.Upload<T>(Backend);
        using var kb = Backend.Allocate<T>(n, m);
        Backend.KernelMatrix(kernel, xb, zb, mb, kb);
        var expected = new double[n * m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                expected[(i * m) + j] = kernel.Value(metric.SquaredDistance(x.AsSpan(i * d, d), z.AsSpan(j * d, d)));
            }
        }

        return Download(Backend, kb).Zip(expected, (a, e) => Math.Abs(a - e)).Max();
    }

    /// <summary>
    /// Sparse data far from the origin (pairs plus a column held at 10⁷ in every row) is still centred: without the shift
    /// its squared norms would be 10¹⁴ and the distances of order 1 would cancel.
    /// </summary>
    [SkippableTheory]
    [InlineData("gaussian")]
    [InlineData("laplace")]
    public void SparseDataFarFromTheOriginIsCentred(string kernelName)
    {
        const int n = 23, m = 19, d = 65;
        var kernel = MakeKernel(kernelName);
        var metric = MakeMetric("diagonal", d);

        // Pairs in the first 64 columns; the last column is 0 for the reference and 10⁷ in every row for the backend.
        double[] Widen(double[] pairs, int rows, double last) =>
            Enumerable.Range(0, rows).SelectMany(i => pairs.Skip(i * (d - 1)).Take(d - 1).Append(last)).ToArray();
        var x = Widen(PairInputs(n, d - 1, 31), n, 0);
        var z = Widen(PairInputs(m, d - 1, 32), m, 0);
        var xs = Widen(PairInputs(n, d - 1, 31), n, 1e7);
        var zs = Widen(PairInputs(m, d - 1, 32), m, 1e7);
        MaxKernelError<double>(kernel, metric, x, z, xs, zs, d).Should().BeLessThan(1e-7);
    }

    [SkippableTheory]
    [InlineData(1e300)]
    [InlineData(1e160)]
    public void KernelMatrixRefusesDataWhoseSquaredDistancesOverflow(double scale)
    {
        const int n = 6, d = 3;
        using var xb = Backend.Upload<double>(Random(n, d, 23, scale: scale), n, d);
        using var zb = Backend.Upload<double>(Random(n, d, 24), n, d);
        using var kb = Backend.Allocate<double>(n, n);
        var act = () => Backend.KernelMatrix(new LaplaceKernel(scale), xb, zb, null, kb);
        act.Should().Throw<ArgumentException>().Which.Message.Should().Contain("overflow").And.Contain("Rescale");
        using var fb = Backend.Upload<float>(Cast<float>(Random(n, d, 25, scale: 1e20)), n, d);
        using var fk = Backend.Allocate<float>(n, n);
        ((Action)(() => Backend.KernelMatrix(new GaussianKernel(1e20), fb, fb, null, fk))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("x");
    }

    [SkippableTheory]
    [InlineData("laplace")]
    [InlineData("genlaplace")]
    [InlineData("gaussian")]
    public void SelfKernelMatrixHasExactDiagonalAndOmitsNonDifferentiableSelfTerms(string kernelName)
    {
        const int n = 40, d = 7;
        var kernel = MakeKernel(kernelName);
        using var xb = Backend.Upload<double>(Random(n, d, 14, scale: 10), n, d);
        using var kb = Backend.Allocate<double>(n, n);
        using var wb = Backend.Allocate<double>(n, n);
        Backend.KernelMatrix(kernel, xb, xb, null, kb, wb);
        var k = Download(Backend, kb);
        var w = Download(Backend, wb);
        for (int i = 0; i < n; i++)
        {
            k[(i * n) + i].Should().Be(1.0);
            w[(i * n) + i].Should().Be(kernel.Derivative(0));
        }

        if (!kernel.IsDifferentiableAtZero)
        {
            w.Where((_, idx) => idx % (n + 1) == 0).Should().OnlyContain(v => v == 0);
        }
    }

    [SkippableFact]
    public void ElementwisePrimitivesMatchDirectComputation()
    {
        const int n = 23, d = 11;
        var a = Random(n, d, 15);
        var b = Random(n, d, 16);
        var v = Random(1, d, 17);
        using var ab = Backend.Upload<double>(a, n, d);
        using var bb = Backend.Upload<double>(b, n, d);
        using var vb = Backend.Upload<double>(v, 1, d);
        using var cb = Backend.Allocate<double>(n, d);
        using var rb = Backend.Allocate<double>(n, 1);

        Backend.Dot(ab, bb).Should().BeApproximately(a.Zip(b, (x, y) => x * y).Sum(), 1e-12);

        Backend.Hadamard(ab, bb, cb);
        RelativeError(Download(Backend, cb), a.Zip(b, (x, y) => x * y).ToArray()).Should().BeLessThan(1e-15);

        Backend.RowDot(ab, bb, rb);
        RelativeError(Download(Backend, rb), Enumerable.Range(0, n).Select(i => Enumerable.Range(0, d).Sum(j => a[(i * d) + j] * b[(i * d) + j])).ToArray()).Should().BeLessThan(1e-14);

        Backend.Copy(ab, cb);
        Backend.Axpy(2.0, bb, cb);
        RelativeError(Download(Backend, cb), a.Zip(b, (x, y) => x + (2 * y)).ToArray()).Should().BeLessThan(1e-15);

        Backend.Scale(-3.0, cb);
        RelativeError(Download(Backend, cb), a.Zip(b, (x, y) => -3 * (x + (2 * y))).ToArray()).Should().BeLessThan(1e-15);

        Backend.Copy(ab, cb);
        Backend.ScaleColumns(cb, vb);
        RelativeError(Download(Backend, cb), a.Select((x, idx) => x * v[idx % d]).ToArray()).Should().BeLessThan(1e-15);

        using var rowScale = Backend.Upload<double>(Random(n, 1, 20), n, 1);
        var r = Download(Backend, rowScale);
        Backend.Copy(ab, cb);
        Backend.ScaleRows(cb, rowScale);
        RelativeError(Download(Backend, cb), a.Select((x, idx) => x * r[idx / d]).ToArray()).Should().BeLessThan(1e-15);

        using var sq = Backend.Upload<double>(Random(d, d, 18), d, d);
        var before = Download(Backend, sq);
        Backend.AddDiagonal(sq, 5.0);
        var after = Download(Backend, sq);
        for (int i = 0; i < d * d; i++)
        {
            after[i].Should().Be(before[i] + (i % (d + 1) == 0 ? 5.0 : 0.0));
        }
    }

    [SkippableTheory]
    [InlineData(4, 5, 3, 2)]
    [InlineData(3, 7, 1, 4)]
    [InlineData(1, 6, 9, 9)]
    public void BlockSumAddsEachBlockAndScales(int rows, int cols, int rg, int cg)
    {
        var a = Random(rows * rg, cols * cg, 23);
        using var ab = Backend.Upload<double>(a, rows * rg, cols * cg);
        using var rb = Backend.Allocate<double>(rows, cols);
        Backend.BlockSum(ab, rg, cg, 0.25, rb);
        var expected = new double[rows * cols];
        for (int i = 0; i < rows * rg; i++)
        {
            for (int j = 0; j < cols * cg; j++)
            {
                expected[((i / rg) * cols) + (j / cg)] += 0.25 * a[(i * cols * cg) + j];
            }
        }

        RelativeError(Download(Backend, rb), expected).Should().BeLessThan(1e-14);
        using var single = Backend.Upload<float>(a.Select(v => (float)v).ToArray(), rows * rg, cols * cg);
        using var singleResult = Backend.Allocate<float>(rows, cols);
        Backend.BlockSum(single, rg, cg, 0.25f, singleResult);
        RelativeError(Download(Backend, singleResult), expected).Should().BeLessThan(1e-6);
        using var wrong = Backend.Allocate<double>(rows, cols + 1);
        ((Action)(() => Backend.BlockSum(ab, rg, cg, 1.0, wrong))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("result");
    }

    [SkippableFact]
    public void RowKroneckerMatchesDirectComputation()
    {
        const int n = 13, c = 3, d = 7;
        var a = Random(n, c, 21);
        var b = Random(n, d, 22);
        using var ab = Backend.Upload<double>(a, n, c);
        using var bb = Backend.Upload<double>(b, n, d);
        using var rb = Backend.Allocate<double>(n, c * d);
        Backend.RowKronecker(ab, bb, rb);
        var expected = new double[n * c * d];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < c; k++)
            {
                for (int j = 0; j < d; j++)
                {
                    expected[(i * c * d) + (k * d) + j] = a[(i * c) + k] * b[(i * d) + j];
                }
            }
        }

        Download(Backend, rb).Should().Equal(expected);
        using var wrong = Backend.Allocate<double>(n, c * d - 1);
        ((Action)(() => Backend.RowKronecker(ab, bb, wrong))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("result");
    }

    [SkippableFact]
    public void GatherColumnsMatchesIndexingOnTheHost()
    {
        const int n = 11, m = 7;
        int[] columns = [6, 0, 3, 3, 1, 6];
        var a = Random(n, m, 23);
        var expected = new double[n * columns.Length];
        for (int i = 0; i < n; i++)
        {
            for (int t = 0; t < columns.Length; t++)
            {
                expected[(i * columns.Length) + t] = a[(i * m) + columns[t]];
            }
        }

        using var ab = Backend.Upload<double>(a, n, m);
        using var db = Backend.Allocate<double>(n, columns.Length);
        Backend.GatherColumns(ab, columns, db);
        Download(Backend, db).Should().Equal(expected);

        // From a strided view (columns 2 … 6 of A) into a strided view (columns 1 … 3 of a wider destination).
        using var wide = Backend.Upload<double>(Enumerable.Repeat(-1.0, n * 5).ToArray(), n, 5);
        using var source = ab.ColumnRange(2, 5);
        using var target = wide.ColumnRange(1, 3);
        Backend.GatherColumns(source, [4, 0, 2], target);
        var got = Download(Backend, wide);
        for (int i = 0; i < n; i++)
        {
            got.Skip(i * 5).Take(5).Should().Equal(-1.0, a[(i * m) + 6], a[(i * m) + 2], a[(i * m) + 4], -1.0);
        }

        using var single = Backend.Upload<float>(a.Select(v => (float)v).ToArray(), n, m);
        using var singleResult = Backend.Allocate<float>(n, columns.Length);
        Backend.GatherColumns(single, columns, singleResult);
        Download(Backend, singleResult).Should().Equal(expected.Select(v => (double)(float)v));

        using var empty = Backend.Allocate<double>(n, 0);
        Backend.GatherColumns(ab, [], empty);
        ((Action)(() => Backend.GatherColumns(ab, [0, m], db.ColumnRange(0, 2)))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("columns");
        ((Action)(() => Backend.GatherColumns(ab, [-1], db.ColumnRange(0, 1)))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("columns");
        ((Action)(() => Backend.GatherColumns(ab, columns, db.ColumnRange(0, 2)))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
    }

    [SkippableFact]
    public void ScaleByZeroClearsEvenNaN()
    {
        using var x = Backend.Upload<double>([double.NaN, double.PositiveInfinity, 3], 1, 3);
        Backend.Scale(0.0, x);
        Download(Backend, x).Should().Equal(0, 0, 0);
        using var f = Backend.Upload<float>([float.NaN, 2f], 2, 1);
        Backend.Scale(0f, f);
        Download(Backend, f).Should().Equal(0, 0);
    }

    [SkippableFact]
    public void UploadDownloadRoundTripsBothPrecisions()
    {
        var a = Random(3, 4, 19);
        using var db = Backend.Upload<double>(a, 3, 4);
        Download(Backend, db).Should().Equal(a);
        using var sb = Backend.Upload<float>(Cast<float>(a), 4, 3);
        sb.Rows.Should().Be(4);
        Download(Backend, sb).Should().Equal(ToDouble(Cast<float>(a)));
    }

    [SkippableFact]
    public void ShapeMismatchesNameTheArgument()
    {
        using var a = Backend.Allocate<double>(3, 4);
        using var b = Backend.Allocate<double>(5, 2);
        using var c = Backend.Allocate<double>(3, 2);
        using var wrongC = Backend.Allocate<double>(2, 2);
        using var b2 = Backend.Allocate<double>(4, 2);
        ((Action)(() => Backend.Gemm(Transpose.None, Transpose.None, 1.0, a, b, 0.0, c))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("b");
        ((Action)(() => Backend.Gemm(Transpose.None, Transpose.None, 1.0, a, b2, 0.0, wrongC))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("c");
        ((Action)(() => Backend.CholeskyFactor(a))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("a");
        ((Action)(() => Backend.Upload<double>(new double[5], 2, 2))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("data");
        ((Action)(() => Backend.KernelMatrix(new GaussianKernel(1), a, b, null, c))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("z");
        ((Action)(() => Backend.Syrk(Transpose.None, 1.0, a, 0.0, c))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("c");
    }

    [SkippableFact]
    public void ForeignAndDisposedBuffersAreRejected()
    {
        using var other = new ManagedBackend(1);
        using var foreign = other.Allocate<double>(2, 2);
        using var mine = Backend.Allocate<double>(2, 2);
        ((Action)(() => Backend.Copy(foreign, mine))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("source");
        var disposed = Backend.Allocate<double>(2, 2);
        disposed.Dispose();
        ((Action)(() => Backend.Copy(disposed, mine))).Should().Throw<ObjectDisposedException>();
    }

    [SkippableFact]
    public void DescribeNamesTheBackend()
    {
        Backend.Describe().Should().Contain(Backend.Name);
    }
}
