using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Tests.Compute;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Rfm;

public sealed class AgopTests
{
    private static readonly ManagedBackend Backend = new();

    public static TheoryData<string, string, AgopForm, bool> Cases()
    {
        var data = new TheoryData<string, string, AgopForm, bool>();
        foreach (string kernel in new[] { "laplace", "gaussian", "genlaplace", "polynomial", "normpolynomial" })
        {
            foreach (string metric in new[] { "identity", "diagonal", "full" })
            {
                foreach (var form in new[] { AgopForm.Direct, AgopForm.Gram })
                {
                    data.Add(kernel, metric, form, form == AgopForm.Gram);
                }
            }
        }

        data.Add("gaussian", "full", AgopForm.Direct, true);
        data.Add("polynomial", "diagonal", AgopForm.Gram, false);
        return data;
    }

    [Theory]
    [InlineData(60, 4)] // c·d·5 > n for c = 8: the per-output direct form
    [InlineData(200, 2)] // c·d·5 ≤ n for c = 8: the batched direct form
    public void DirectFormMovesNothingPerOutputAndHoldsNoPerOutputCopies(int n, int d)
    {
        // One output reads S off the gradients' GEMM (FoldedCoefficientsGiveTheSameAgop), with buffers of its own: the
        // growth with c is that of the per-output form, so it is measured from c = 1 without the fold.
        AgopEngine.FoldCoefficients = false;
        (long Peak, long Moved) peakAndMoved1;
        try
        {
            peakAndMoved1 = DirectAgopFootprint(n, d, 1);
        }
        finally
        {
            AgopEngine.FoldCoefficients = null;
        }

        var (peak1, moved1) = peakAndMoved1;
        var (peak8, moved8) = DirectAgopFootprint(n, d, 8);

        // The fold moves nothing either, and holds at most one more column of the operand and of the product (the Laplace
        // kernel's W' is not folded as symmetric) and S ∘ X_s (n × d) beyond the per-output form's buffers.
        var (peakFolded, movedFolded) = DirectAgopFootprint(n, d, 1);
        movedFolded.Should().Be(d * d);
        (peakFolded - peak1).Should().BeLessThanOrEqualTo((long)n * (d + 2), "the fold's extra buffers");

        // Host transfers: only the final d × d download (no column uploads per output, no download of RᵀR).
        moved1.Should().Be(d * d);
        moved8.Should().Be(d * d);
        if (n == 60)
        {
            // Per-output form: only S = W'α (n × c) grows with c.
            (peak8 - peak1).Should().Be(7L * n);
        }
    }

    /// <summary>
    /// One output of a radial kernel: S = W'α (and W'1, where the centring folds it with S for a symmetric W') read off the
    /// gradients' GEMM as extra columns of its right operand, against the same AGOP with S from a product of its own
    /// (<see cref="AgopEngine.FoldCoefficients"/> false): the Gaussian (a symmetric W' at the centres, S and W'1 folded when
    /// centred) and the Laplace kernel (S folded, W'ᵀ1 from its own pass), centred or not, both gradient layouts (six of
    /// the eight combinations), at the centres themselves and at another sample (not the centres' buffer, where W'1 is not
    /// folded), both precisions.
    /// </summary>
    [Theory]
    [InlineData("gaussian", true, false)]
    [InlineData("gaussian", true, true)]
    [InlineData("gaussian", false, true)]
    [InlineData("laplace", true, false)]
    [InlineData("laplace", true, true)]
    [InlineData("laplace", false, false)]
    public void FoldedCoefficientsGiveTheSameAgop(string kernelName, bool centre, bool transposed)
    {
        IKernelFunction kernel = kernelName == "gaussian" ? new GaussianKernel(1.5) : new LaplaceKernel(2.0);
        Check<double>(1e-12);
        Check<float>(1e-4);

        void Check<T>(double tolerance)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            const int n = 53, d = 5, m = 19;
            using var x = Backend.Upload<T>(Random(n, d, 61).Select(T.CreateTruncating).ToArray(), n, d);
            using var sample = Backend.Upload<T>(Random(m, d, 62).Select(T.CreateTruncating).ToArray(), m, d);
            using var alpha = Backend.Upload<T>(Random(n, 1, 63).Select(T.CreateTruncating).ToArray(), n, 1);
            using var w = Backend.Allocate<T>(n, n);
            using var k = Backend.Allocate<T>(n, n);
            using var ws = Backend.Allocate<T>(m, n);
            using var ks = Backend.Allocate<T>(m, n);
            Backend.KernelMatrix(kernel, x, x, null, k, w);
            Backend.KernelMatrix(kernel, sample, x, null, ks, ws);
            AgopEngine.DirectTransposed = transposed;
            try
            {
                foreach (var (xs, weights, where) in new[] { (x, w, "at the centres"), (sample, ws, "at another sample") })
                {
                    double[] Agop(bool fold)
                    {
                        AgopEngine.FoldCoefficients = fold;
                        try
                        {
                            return AgopEngine.Compute(Backend, kernel, Metric.Identity, null, xs, x, alpha, weights, centre, AgopForm.Direct, CancellationToken.None);
                        }
                        finally
                        {
                            AgopEngine.FoldCoefficients = null;
                        }
                    }

                    var folded = Agop(true);
                    folded.Should().OnlyContain(v => double.IsFinite(v));
                    RelativeError(folded, Agop(false)).Should().BeLessThan(tolerance, $"{kernelName}, {typeof(T).Name}, {where}, centred {centre}, transposed {transposed}");
                }
            }
            finally
            {
                AgopEngine.DirectTransposed = null;
            }
        }
    }

    /// <summary>
    /// The centred direct form at the training points with a radial kernel differentiable at 0, where the centring sums come
    /// with S from one product W'[α | 1] (with one output, from the gradients' GEMM W'[α ∘ X_c | α | 1]), in both gradient
    /// layouts: it equals the blocked evaluation (which never folds W'1),
    /// moves only the ones of [α | 1] up (and the d × d identity of the transposed layout) and the d × d result down, and
    /// never transfers through a strided view (one transfer per row on a GPU).
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(3, false)] // c·d·5 ≤ n: the batched form
    public void CentredDirectFormAtTheCentresMovesOnlyTheOnesAndTheResult(int c, bool transposed)
    {
        const int n = 60, d = 4;
        AgopEngine.DirectTransposed = transposed;
        try
        {
            var kernel = new GaussianKernel(2.0);
            var tracker = TrackedDirectAgop(kernel, n, d, c, centre: true, (x, alpha, agop) =>
            {
                var reference = AgopEngine.ComputeBlocked(Backend, kernel, Metric.Identity, null, x, x, alpha, centre: true, AgopForm.Direct, blockRows: 7, CancellationToken.None);
                RelativeError(agop, reference).Should().BeLessThan(1e-12, "the fold equals the blocked sums, which do not fold");
            });
            // The transposed layout (and its d × d identity upload) is taken only where d fills the register tiles well
            // enough (4·⌈d⌉_MR ≤ 3·⌈d⌉_NR): not with the scalar kernel's 4 × 4 tiles (FEATURELEARNING_SIMD=scalar).
            int mr = FeatureLearning.Compute.Managed.PackedGemm<double>.MR, nr = FeatureLearning.Compute.Managed.PackedGemm<double>.NR;
            // With one output the layout is chosen for the fold's d + 2 columns (d, [α | 1] folded in), with more for d's.
            int width = c == 1 ? d + 2 : d;
            bool taken = transposed && 4 * ((width + mr - 1) / mr * mr) <= 3 * ((width + nr - 1) / nr * nr);
            tracker.TransferredElements.Should().Be((d * d) + n + (taken ? d * d : 0));
            tracker.StridedTransfers.Should().Be(0);
        }
        finally
        {
            AgopEngine.DirectTransposed = null;
        }
    }

    private static (long Peak, long Moved) DirectAgopFootprint(int n, int d, int c)
    {
        var tracker = TrackedDirectAgop(new LaplaceKernel(2.0), n, d, c, centre: false, (_, _, agop) => agop.Should().OnlyContain(v => double.IsFinite(v)));
        return (tracker.PeakElements, tracker.TransferredElements);
    }

    /// <summary>
    /// The direct AGOP at the training points of seeded random data (n × d, c outputs) through a <see cref="PeakTrackingBackend"/>
    /// (the kernel matrix and weights computed beforehand, untracked); <paramref name="check"/> sees X, α and the result.
    /// </summary>
    private static PeakTrackingBackend TrackedDirectAgop(
        IKernelFunction kernel, int n, int d, int c, bool centre, Action<DeviceBuffer<double>, DeviceBuffer<double>, double[]> check)
    {
        using var x = Backend.Upload<double>(Random(n, d, 51), n, d);
        using var alpha = Backend.Upload<double>(Random(n, c, 52), n, c);
        using var k = Backend.Allocate<double>(n, n);
        using var w = Backend.Allocate<double>(n, n);
        Backend.KernelMatrix(kernel, x, x, null, k, w);
        var tracker = new PeakTrackingBackend(Backend);
        check(x, alpha, AgopEngine.Compute(tracker, kernel, Metric.Identity, null, x, x, alpha, w, centre, AgopForm.Direct, CancellationToken.None));
        return tracker;
    }

    private static KernelRidgeModel<double> Fit(IKernelFunction kernel, Metric metric, int n, int d, int c)
    {
        var x = Matrix<double>.Build.DenseOfRowMajor(n, d, Random(n, d, 1));
        var y = Matrix<double>.Build.DenseOfRowMajor(n, c, Random(n, c, 2));
        return new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Metric = metric, Ridge = 0.1, Backend = Backend }).Fit(x, y);
    }

    /// <summary>(1/m) Σ_j Σ_k g gᵀ with g = ∇f_k(x_j) by central differences of the predictor (centred on request).</summary>
    private static Matrix<double> FiniteDifferenceAgop(KernelRidgeModel<double> model, Matrix<double> points, bool centre)
    {
        int m = points.RowCount, d = points.ColumnCount, c = model.OutputDimension;
        const double h = 1e-5;
        var perturbed = Matrix<double>.Build.Dense(2 * m * d, d);
        for (int j = 0; j < m; j++)
        {
            for (int l = 0; l < d; l++)
            {
                var plus = points.Row(j).Clone();
                var minus = points.Row(j).Clone();
                plus[l] += h;
                minus[l] -= h;
                perturbed.SetRow((2 * ((j * d) + l)) + 0, plus);
                perturbed.SetRow((2 * ((j * d) + l)) + 1, minus);
            }
        }

        var f = model.Predict(perturbed);
        var gradients = new double[m, c, d];
        for (int j = 0; j < m; j++)
        {
            for (int l = 0; l < d; l++)
            {
                for (int k = 0; k < c; k++)
                {
                    gradients[j, k, l] = (f[2 * ((j * d) + l), k] - f[(2 * ((j * d) + l)) + 1, k]) / (2 * h);
                }
            }
        }

        if (centre)
        {
            for (int k = 0; k < c; k++)
            {
                for (int l = 0; l < d; l++)
                {
                    double mean = 0;
                    for (int j = 0; j < m; j++)
                    {
                        mean += gradients[j, k, l] / m;
                    }

                    for (int j = 0; j < m; j++)
                    {
                        gradients[j, k, l] -= mean;
                    }
                }
            }
        }

        var g = Matrix<double>.Build.Dense(d, d);
        for (int j = 0; j < m; j++)
        {
            for (int k = 0; k < c; k++)
            {
                for (int a = 0; a < d; a++)
                {
                    for (int b = 0; b < d; b++)
                    {
                        g[a, b] += gradients[j, k, a] * gradients[j, k, b] / m;
                    }
                }
            }
        }

        return g;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AgopAtNewPointsMatchesFiniteDifferencesOfThePredictor(string kernelName, string metricName, AgopForm form, bool centre)
    {
        const int d = 4;
        var model = Fit(BackendConformanceTests.MakeKernel(kernelName), BackendConformanceTests.MakeMetric(metricName, d), 25, d, 3);
        var points = Matrix<double>.Build.DenseOfRowMajor(7, d, Random(7, d, 3));
        var agop = Agop.Compute(model, points, centre, form, Backend);
        var expected = FiniteDifferenceAgop(model, points, centre);
        RelativeError(agop.ToRowMajorArray(), expected.ToRowMajorArray()).Should().BeLessThan(1e-6);
    }

    /// <summary>Few outputs and inputs against many points (c·d ≤ min(n, m)/5): the direct form batches all outputs in one GEMM.</summary>
    [Theory]
    [InlineData("gaussian", "full", false)]
    [InlineData("gaussian", "diagonal", true)]
    [InlineData("laplace", "identity", true)]
    [InlineData("polynomial", "full", false)]
    [InlineData("normpolynomial", "full", true)]
    public void BatchedDirectFormMatchesFiniteDifferences(string kernelName, string metricName, bool centre)
    {
        const int d = 2, c = 2;
        var model = Fit(BackendConformanceTests.MakeKernel(kernelName), BackendConformanceTests.MakeMetric(metricName, d), 40, d, c);
        var points = Matrix<double>.Build.DenseOfRowMajor(25, d, Random(25, d, 4));
        var batched = Agop.Compute(model, points, centre, AgopForm.Direct, Backend);
        RelativeError(batched.ToRowMajorArray(), FiniteDifferenceAgop(model, points, centre).ToRowMajorArray()).Should().BeLessThan(1e-6);
        RelativeError(batched.ToRowMajorArray(), Agop.Compute(model, points, centre, AgopForm.Gram, Backend).ToRowMajorArray()).Should().BeLessThan(1e-10);
        foreach (var form in new[] { AgopForm.Direct, AgopForm.Gram })
        {
            // 25 points in blocks of 6: four full blocks and one of a single row.
            var blocked = Agop.Compute(model, points, centre, form, Backend, blockSize: 6);
            RelativeError(blocked.ToRowMajorArray(), batched.ToRowMajorArray()).Should().BeLessThan(1e-10, $"{form} in blocks");
        }
    }

    [Theory]
    [InlineData("gaussian", AgopForm.Direct)]
    [InlineData("gaussian", AgopForm.Gram)]
    [InlineData("polynomial", AgopForm.Gram)]
    [InlineData("normpolynomial", AgopForm.Direct)]
    [InlineData("normpolynomial", AgopForm.Gram)]
    public void AgopAtTheTrainingPointsMatchesFiniteDifferences(string kernelName, AgopForm form)
    {
        const int d = 5;
        var model = Fit(BackendConformanceTests.MakeKernel(kernelName), BackendConformanceTests.MakeMetric("full", d), 30, d, 2);
        var agop = Agop.Compute(model, centre: true, form: form, backend: Backend);
        var expected = FiniteDifferenceAgop(model, model.TrainingInputs, true);
        RelativeError(agop.ToRowMajorArray(), expected.ToRowMajorArray()).Should().BeLessThan(1e-6);
        var blocked = Agop.Compute(model, centre: true, form: form, backend: Backend, blockSize: 7);
        RelativeError(blocked.ToRowMajorArray(), agop.ToRowMajorArray()).Should().BeLessThan(1e-10);
    }

    [Fact]
    public void LaplaceAgopAtTrainingPointsOmitsTheSelfTerm()
    {
        // At a training point the Laplace predictor has a kink from its own centre; the AGOP takes the gradient of the
        // other centres only. Check against finite differences of the predictor with that centre's term removed.
        const int d = 3, n = 12;
        var model = Fit(new LaplaceKernel(2.0), Metric.Identity, n, d, 1);
        var agop = Agop.Compute(model, form: AgopForm.Direct, backend: Backend);
        var x = model.TrainingInputs;
        var alpha = model.Coefficients;
        var expected = Matrix<double>.Build.Dense(d, d);
        const double h = 1e-6;
        for (int j = 0; j < n; j++)
        {
            var g = new double[d];
            for (int l = 0; l < d; l++)
            {
                double Others(double shift)
                {
                    var p = x.Row(j).ToArray();
                    p[l] += shift;
                    double s = 0;
                    for (int i = 0; i < n; i++)
                    {
                        if (i != j)
                        {
                            s += alpha[i, 0] * model.Kernel.Evaluate(p, x.Row(i).ToArray(), Metric.Identity);
                        }
                    }

                    return s;
                }

                g[l] = (Others(h) - Others(-h)) / (2 * h);
            }

            for (int a = 0; a < d; a++)
            {
                for (int b = 0; b < d; b++)
                {
                    expected[a, b] += g[a] * g[b] / n;
                }
            }
        }

        RelativeError(agop.ToRowMajorArray(), expected.ToRowMajorArray()).Should().BeLessThan(1e-6);
    }

    /// <summary>One-hot rows (two blocks of p columns, one 1 in each, distinct pairs) or random rows with about 30% non-zeros.</summary>
    private static double[] SparseInputs(string kind, int n, int d, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n * d];
        if (kind == "onehot")
        {
            int p = d / 2;
            var pairs = Enumerable.Range(0, p * p).OrderBy(_ => rng.Next()).Take(n).ToArray();
            for (int i = 0; i < n; i++)
            {
                x[(i * d) + (pairs[i] / p)] = 1;
                x[(i * d) + p + (pairs[i] % p)] = 1;
            }

            return x;
        }

        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextDouble() < 0.3 ? (2 * rng.NextDouble()) - 1 : 0;
        }

        // One column without any non-zero (its gradients come from S alone) and one without zeros (wider than a small chunk
        // bound allows per row, so the chunk shrinks to fit its gathered weights).
        for (int i = 0; i < n; i++)
        {
            x[(i * d) + 1] = 0;
            x[(i * d) + 2] = 0.5 + rng.NextDouble();
        }

        return x;
    }

    private static KernelRidgeModel<T> FitOn<T>(IKernelFunction kernel, Metric metric, double[] x, int n, int d, int c)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var xm = Matrix<T>.Build.DenseOfRowMajor(n, d, x.Select(T.CreateTruncating).ToArray());
        var y = Matrix<T>.Build.DenseOfRowMajor(n, c, Random(n, c, 2).Select(T.CreateTruncating).ToArray());
        return new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Metric = metric, Ridge = 0.1, Backend = Backend }).Fit(xm, y);
    }

    public static TheoryData<string, string, int, bool, bool> SparseCases()
    {
        var data = new TheoryData<string, string, int, bool, bool>();
        foreach (string kernel in new[] { "gaussian", "laplace", "polynomial", "normpolynomial" })
        {
            foreach (string inputs in new[] { "onehot", "random" })
            {
                foreach (int c in new[] { 1, 3 })
                {
                    data.Add(kernel, inputs, c, c == 3, kernel != "laplace");
                }
            }
        }

        data.Add("gaussian", "onehot", 3, false, true);
        data.Add("normpolynomial", "random", 1, true, false);

        // Enough outputs for the register-blocked kernel: a full and a partial output block in double precision.
        foreach (string kernel in new[] { "gaussian", "laplace", "polynomial", "normpolynomial" })
        {
            data.Add(kernel, "onehot", 20, true, kernel != "laplace");
            data.Add(kernel, "random", 20, false, false);
        }

        return data;
    }

    /// <summary>
    /// The sparse direct form against the dense direct and Gram forms (independent formulas over the same W' and α), at the
    /// training points and at new sparse points, unblocked, in blocks of sample rows, and with chunk bounds small enough for
    /// several row chunks (and column groups) per block. Blocked evaluations never fold the centring sum W'ᵀ1 into W'[α | 1]
    /// (the unblocked ones at the training points do, for radial kernels), so the comparison also checks that fold.
    /// </summary>
    [Theory]
    [MemberData(nameof(SparseCases))]
    public void SparseDirectFormEqualsTheDenseForms(string kernelName, string inputs, int c, bool centre, bool trainingPoints)
    {
        const int n = 30, d = 12;
        var model = FitOn<double>(BackendConformanceTests.MakeKernel(kernelName), BackendConformanceTests.MakeMetric("full", d), SparseInputs(inputs, n, d, 5), n, d, c);
        var points = trainingPoints ? null : Matrix<double>.Build.DenseOfRowMajor(9, d, SparseInputs(inputs, 9, d, 6));
        var direct = Agop.Compute(model, points, centre, AgopForm.Direct, Backend).ToRowMajorArray();
        var gram = Agop.Compute(model, points, centre, AgopForm.Gram, Backend).ToRowMajorArray();
        RelativeError(gram, direct).Should().BeLessThan(1e-12, "the two dense forms agree");
        foreach (bool kernelPath in new[] { false, true })
        {
            foreach (int? block in new int?[] { null, 4 })
            {
                // The default bound, one that splits the register-blocked kernel's rows into chunks of one row block (its chunks
                // hold bound / (c·RowBlock) = d = 12 = RowBlock rows; W' rows and its row sums chunk by chunk), and one too small
                // for that kernel (the gather path's row chunks and column groups).
                foreach (int chunkElements in new[] { 0, FeatureLearning.Compute.Managed.SparseGradientKernel<double>.RowBlock * c * d, 5 * c * d })
                {
                    // The register-blocked kernel (where the CPU has it) and the gather-and-GEMM path; the kernel with S read off
                    // a one-hot group of columns (one-hot inputs, radial kernels) and with S from the GEMM.
                    // (Both only where the register-blocked kernel runs: elsewhere the kernel path is the gather path too.)
                    foreach (bool derive in kernelPath && FeatureLearning.Compute.Managed.SparseGradientKernel<double>.Supported ? new[] { true, false } : new[] { true })
                    {
                        AgopEngine.ChunkElements = chunkElements;
                        AgopEngine.SparseKernel = kernelPath;
                        AgopEngine.DeriveCoefficients = derive;
                        try
                        {
                            var sparse = Agop.Compute(model, points, centre, AgopForm.SparseDirect, Backend, block).ToRowMajorArray();
                            string where = $"kernel path {kernelPath}, S from a one-hot group {derive}, block {block?.ToString() ?? "none"}, chunk bound {chunkElements}";
                            RelativeError(sparse, direct).Should().BeLessThan(1e-12, where);
                            RelativeError(sparse, gram).Should().BeLessThan(1e-12, where);
                        }
                        finally
                        {
                            AgopEngine.ChunkElements = 0;
                            AgopEngine.SparseKernel = null;
                            AgopEngine.DeriveCoefficients = null;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The dense direct form with its gradients built transposed (d × rows, the managed backend's choice where d rows waste
    /// less of the GEMM's register tiles than d columns) against the untransposed layout and the Gram form, for every kernel
    /// geometry, with and without centring, at the training points and at new points, unblocked and in blocks.
    /// </summary>
    [Theory]
    [InlineData("gaussian", true, true)]
    [InlineData("laplace", false, true)]
    [InlineData("normpolynomial", true, false)]
    [InlineData("polynomial", false, false)]
    public void TransposedDirectGradientsEqualTheUntransposedOnes(string kernelName, bool centre, bool trainingPoints)
    {
        const int n = 30, d = 11, c = 2;
        var model = FitOn<double>(BackendConformanceTests.MakeKernel(kernelName), BackendConformanceTests.MakeMetric("full", d), SparseInputs("random", n, d, 9), n, d, c);
        var points = trainingPoints ? null : Matrix<double>.Build.DenseOfRowMajor(7, d, SparseInputs("random", 7, d, 10));
        var gram = Agop.Compute(model, points, centre, AgopForm.Gram, Backend).ToRowMajorArray();
        foreach (int? block in new int?[] { null, 4 })
        {
            var results = new Dictionary<bool, double[]>();
            foreach (bool transposed in new[] { false, true })
            {
                AgopEngine.DirectTransposed = transposed;
                try
                {
                    results[transposed] = Agop.Compute(model, points, centre, AgopForm.Direct, Backend, block).ToRowMajorArray();
                }
                finally
                {
                    AgopEngine.DirectTransposed = null;
                }
            }

            string where = $"block {block?.ToString() ?? "none"}";
            RelativeError(results[true], results[false]).Should().BeLessThan(1e-12, where);
            RelativeError(results[true], gram).Should().BeLessThan(1e-12, where);
        }
    }

    [Theory]
    [InlineData("gaussian", true)]
    [InlineData("normpolynomial", false)]
    public void SparseDirectFormMatchesFiniteDifferences(string kernelName, bool centre)
    {
        const int n = 20, d = 10;
        var model = FitOn<double>(BackendConformanceTests.MakeKernel(kernelName), BackendConformanceTests.MakeMetric("diagonal", d), SparseInputs("onehot", n, d, 7), n, d, 2);
        var points = Matrix<double>.Build.DenseOfRowMajor(6, d, SparseInputs("onehot", 6, d, 8));
        var agop = Agop.Compute(model, points, centre, AgopForm.SparseDirect, Backend);
        RelativeError(agop.ToRowMajorArray(), FiniteDifferenceAgop(model, points, centre).ToRowMajorArray()).Should().BeLessThan(1e-6);
    }

    [Theory]
    [InlineData("gaussian", true, 3)]
    [InlineData("polynomial", false, 3)]
    [InlineData("gaussian", true, 40)]
    [InlineData("gaussian", true, 33)]
    [InlineData("laplace", false, 64)]
    public void SparseDirectFormInSinglePrecisionMatchesTheDoubleDenseForm(string kernelName, bool centre, int c)
    {
        const int n = 30, d = 12;
        var x = SparseInputs("onehot", n, d, 9);
        var kernel = BackendConformanceTests.MakeKernel(kernelName);
        var metric = BackendConformanceTests.MakeMetric("full", d);
        var model = FitOn<float>(kernel, metric, x, n, d, c);
        var reference = Agop.Compute(FitOn<double>(kernel, metric, x, n, d, c), centre: centre, form: AgopForm.Direct, backend: Backend).ToRowMajorArray();
        foreach (bool kernelPath in new[] { false, true })
        {
            AgopEngine.SparseKernel = kernelPath;
            try
            {
                var single = Agop.Compute(model, centre: centre, form: AgopForm.SparseDirect, backend: Backend).ToRowMajorArray();
                RelativeError(single, reference).Should().BeLessThan(1e-4, $"kernel path {kernelPath}");
            }
            finally
            {
                AgopEngine.SparseKernel = null;
            }
        }
    }

    /// <summary>
    /// <see cref="AgopEngine.ComputeFromKernel{T}"/>, whose weights are read off the strict upper triangle of the kernel matrix
    /// after its Cholesky factor has been written over the rest, against the AGOP from the stored weights (the same sparse
    /// kernel) and from the dense direct form, in both precisions, centred and not, in one chunk of sample rows and in
    /// chunks of one row block (the later chunks' rows start past the first centre).
    /// </summary>
    [SkippableTheory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void AgopFromTheFactoredKernelMatrixEqualsTheAgopFromStoredWeights(bool centre, bool chunks)
    {
        Skip.IfNot(FeatureLearning.Compute.Managed.SparseGradientKernel<double>.Supported, "the register-blocked kernel needs AVX-512");
        FromKernel<double>(centre, chunks, 1e-12);
        FromKernel<float>(centre, chunks, 1e-5);
    }

    private static void FromKernel<T>(bool centre, bool chunks, double tolerance)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        const int n = 60, d = 16, c = 40;
        var kernel = new GaussianKernel(1.5);
        var metric = BackendConformanceTests.MakeMetric("full", d);
        var x = SparseInputs("onehot", n, d, 12).Select(T.CreateTruncating).ToArray();
        var y = Random(n, c, 13).Select(T.CreateTruncating).ToArray();
        var pattern = SparseColumns.Build<T>(x, n, d);
        using var xb = Backend.Upload<T>(x, n, d);
        using var mb = metric.Upload<T>(Backend);
        using var k = Backend.Allocate<T>(n, n);
        using var w = Backend.Allocate<T>(n, n);
        using var alpha = Backend.Upload<T>(y, n, c);
        Backend.KernelMatrix(kernel, xb, xb, mb, k, w);
        Backend.AddDiagonal(k, T.CreateTruncating(0.1));
        Backend.CholeskyFactor(k, CholeskyOptions.Default, default);
        Backend.CholeskySolve(k, alpha);

        AgopEngine.ChunkElements = chunks ? FeatureLearning.Compute.Managed.SparseGradientKernel<T>.RowBlock * c * d : 0;
        try
        {
            AgopEngine.ReadsWeightsFromKernel<T>(Backend, kernel, n, d, c, AgopForm.SparseDirect, pattern).Should().BeTrue();
            AgopEngine.ReadsWeightsFromKernel<T>(Backend, new LaplaceKernel(1.5), n, d, c, AgopForm.SparseDirect, pattern).Should().BeFalse("W is not a multiple of K");
            AgopEngine.ReadsWeightsFromKernel<T>(Backend, kernel, n, d, c, AgopForm.Direct, pattern).Should().BeFalse("the dense form reads W");
            AgopEngine.DeriveCoefficients = false;
            try
            {
                AgopEngine.ReadsWeightsFromKernel<T>(Backend, kernel, n, d, c, AgopForm.SparseDirect, pattern).Should().BeFalse("S from a GEMM reads W");
            }
            finally
            {
                AgopEngine.DeriveCoefficients = null;
            }

            var fromKernel = AgopEngine.ComputeFromKernel(Backend, kernel, metric, mb, xb, alpha, k, centre, AgopForm.SparseDirect, pattern, default);
            var stored = AgopEngine.Compute(Backend, kernel, metric, mb, xb, xb, alpha, w, centre, AgopForm.SparseDirect, default, pattern);
            var dense = AgopEngine.Compute(Backend, kernel, metric, mb, xb, xb, alpha, w, centre, AgopForm.Direct, default, pattern);
            RelativeError(fromKernel, stored).Should().BeLessThan(tolerance, typeof(T).Name);
            RelativeError(fromKernel, dense).Should().BeLessThan(tolerance, typeof(T).Name);
        }
        finally
        {
            AgopEngine.ChunkElements = 0;
        }
    }

    [Fact]
    public void AutoTakesTheSparseDirectFormForOneHotInputsOnly()
    {
        const int n = 60, d = 16;
        var oneHot = SparseColumns.Detect<double>(SparseInputs("onehot", n, d, 10), n, d);
        oneHot.Should().NotBeNull();
        oneHot!.NonZeros.Should().Be(2 * n);
        SparseColumns.Detect<double>(Random(n, d, 11), n, d).Should().BeNull("a dense matrix is not sparse");

        // Grokking's shape (p = 61): two non-zeros per row of 122; the sparse count is below both dense ones.
        var grokking = new double[1860 * 122];
        for (int i = 0; i < 1860; i++)
        {
            grokking[(i * 122) + (i % 61)] = 1;
            grokking[(i * 122) + 61 + ((i * 7) % 61)] = 1;
        }

        var pattern = SparseColumns.Detect<double>(grokking, 1860, 122)!;
        AgopEngine.Resolve(AgopForm.Auto, 1860, 1860, 122, 61, pattern).Should().Be(AgopForm.SparseDirect);
        AgopEngine.Resolve(AgopForm.Auto, 1860, 1860, 122, 61, null).Should().Be(AgopForm.Gram, "without a known pattern");
        AgopEngine.Resolve(AgopForm.Gram, 1860, 1860, 122, 61, pattern).Should().Be(AgopForm.Gram, "an explicit form is kept");
        AgopEngine.SparseCost(1860, 1860, 122, 61, pattern.NonZeros).Should().BeLessThan(AgopEngine.Cost(1860, 1860, 122, 61).Gram / 2);

        // The same result whichever form Auto takes.
        var model = FitOn<double>(new GaussianKernel(1.5), Metric.Identity, SparseInputs("onehot", n, d, 10), n, d, 2);
        var auto = Agop.Compute(model, centre: true, backend: Backend).ToRowMajorArray();
        RelativeError(auto, Agop.Compute(model, centre: true, form: AgopForm.Direct, backend: Backend).ToRowMajorArray()).Should().BeLessThan(1e-12);
    }

    /// <summary>
    /// <see cref="SparseColumns.OneHotGroup"/>: the first operand's columns of one-hot pairs (the rows' first non-zeros
    /// are their first operands); none for values other than 1, for a row with two non-zeros in the candidate columns, and for
    /// an all-zero row.
    /// </summary>
    [Fact]
    public void OneHotGroupIsFoundOnlyWhereEveryRowHasExactlyOneOne()
    {
        const int n = 40, d = 14, p = d / 2;
        var pairs = SparseInputs("onehot", n, d, 12);
        var group = SparseColumns.Build<double>(pairs, n, d).OneHotGroup;
        group.Should().NotBeNull();
        group!.Should().BeInAscendingOrder().And.OnlyContain(l => l < p, "the rows' first non-zeros are their first operands");
        for (int i = 0; i < n; i++)
        {
            group!.Count(l => pairs[(i * d) + l] == 1).Should().Be(1, $"row {i} has one non-zero in the group");
        }

        var scaled = pairs.Select(v => 2 * v).ToArray();
        SparseColumns.Build<double>(scaled, n, d).OneHotGroup.Should().BeNull("the values are 2, not 1");

        // Row 0 as two columns of the group, each the first non-zero of some other row too (so both stay candidates).
        var twoInGroup = (double[])pairs.Clone();
        int[] firsts = Enumerable.Range(1, n - 1).Select(i => Enumerable.Range(0, d).First(l => pairs[(i * d) + l] != 0)).Distinct().Order().ToArray();
        firsts.Length.Should().BeGreaterThan(1);
        Array.Clear(twoInGroup, 0, d);
        twoInGroup[firsts[0]] = 1;
        twoInGroup[firsts[1]] = 1;
        SparseColumns.Build<double>(twoInGroup, n, d).OneHotGroup.Should().BeNull("row 0 has two non-zeros in the candidate columns");

        var zeroRow = (double[])pairs.Clone();
        Array.Clear(zeroRow, 3 * d, d);
        SparseColumns.Build<double>(zeroRow, n, d).OneHotGroup.Should().BeNull("row 3 has no non-zero");
    }

    [Fact]
    public void AutoPicksTheCheaperForm()
    {
        AgopEngine.Resolve(AgopForm.Auto, 1860, 1860, 122, 61).Should().Be(AgopForm.Gram, "grokking: c·d = 7,442 > n = 1,860");
        AgopEngine.Resolve(AgopForm.Auto, 10000, 10000, 100, 1).Should().Be(AgopForm.Direct, "one output, d = 100 ≪ n");
        var (direct, gram) = AgopEngine.Cost(1860, 1860, 122, 61);
        (direct / gram).Should().BeGreaterThan(4);
    }
}
