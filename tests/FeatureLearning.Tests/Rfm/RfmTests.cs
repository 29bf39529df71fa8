using FeatureLearning.Compute;
using FeatureLearning.Tests.Compute;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Rfm;

public sealed class RfmTests
{
    private static readonly ManagedBackend Backend = new();

    /// <summary>x ~ N(0, I_20); y = x₀x₁ + x₀ depends on the first two coordinates only.</summary>
    private static (Matrix<double> X, Matrix<double> Y) Planted(int n, int seed)
    {
        var x = Matrix<double>.Build.Random(n, 20, new Normal(0, 1, new System.Random(seed)));
        var y = Matrix<double>.Build.Dense(n, 1, (i, _) => (x[i, 0] * x[i, 1]) + x[i, 0]);
        return (x, y);
    }

    private static double Mse(Matrix<double> a, Matrix<double> b) => (a - b).Enumerate().Average(v => v * v);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RecoversThePlantedCoordinatesAndBeatsKernelRidge(bool diagonal)
    {
        var (x, y) = Planted(800, 1);
        var (xt, yt) = Planted(400, 2);
        var options = new RfmOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 5, Diagonal = diagonal, Backend = Backend };
        var rfm = new RecursiveFeatureMachine(options).Fit(x, y);
        var krr = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Backend = Backend }).Fit(x, y);

        double rfmMse = Mse(rfm.Predict(xt), yt);
        double krrMse = Mse(krr.Predict(xt), yt);
        rfmMse.Should().BeLessThan(krrMse / 3, $"RFM test MSE {rfmMse:G3} vs kernel ridge {krrMse:G3}");

        var diag = rfm.FeatureMatrix.Diagonal();
        (diag[0] + diag[1]).Should().BeGreaterThanOrEqualTo(0.9 * diag.Sum(), "diag(M) should concentrate on the two relevant coordinates");
        rfm.History.Should().HaveCount(5);
        rfm.SelectedIteration.Should().Be(4);
    }

    [Fact]
    public void GrokkingEmergesOnASmallModulus()
    {
        // p = 31 with 70% of the pairs: near-chance test accuracy first, then 100%, with the progress measures moving first.
        var task = ModularArithmetic.Create(31, ModularOperation.Add);
        var (train, test) = task.Split(0.7, seed: 0);
        var model = new RecursiveFeatureMachine(RfmOptions.Grokking(16) with { Backend = Backend, RecordFeatureMatrices = true })
            .Fit(task.Inputs<double>(train), task.Targets<double>(train), (task.Inputs<double>(test), task.Targets<double>(test)));

        var accuracy = model.History.Select(h => h.ValidationAccuracy).ToArray();
        accuracy.Take(4).Should().OnlyContain(a => a < 0.1, "the first rounds generalise no better than chance (1/31)");
        accuracy[^1].Should().Be(1.0);
        model.History.Should().OnlyContain(h => h.TrainAccuracy == 1.0, "ridge 0 interpolates the training set from the start");

        var final = model.FeatureMatrixHistory[^1];
        var deviation = model.FeatureMatrixHistory.Select(m => FeatureLearning.Diagnostics.GrokkingMeasures.CirculantDeviation(m, 31, ModularOperation.Add)).ToArray();
        var alignment = model.FeatureMatrixHistory.Select(m => FeatureLearning.Diagnostics.GrokkingMeasures.Alignment(m, final)).ToArray();
        int emergence = Array.FindIndex(accuracy, a => a > 0.5);
        emergence.Should().BeGreaterThan(3);
        deviation[emergence - 1].Should().BeLessThan(deviation[1] / 3, "the circulant deviation falls before the accuracy rises");
        alignment[emergence - 1].Should().BeGreaterThan(alignment[0] + 0.1, "the alignment rises before the accuracy does");
    }

    /// <summary>
    /// A grokking fit whose AGOP reads the Gaussian's weights off the factored kernel matrix's strict upper triangle (no W
    /// stored) against the same fit with W computed and stored (<see cref="RfmChecks.WeightsFromKernelMatchStoredWeights"/>):
    /// the feature matrix of every round and the coefficients, with the double and the mixed-precision solve and in single
    /// precision. The fits are counted to take the path (or not), so the comparison cannot pass by running the same code
    /// twice; a factorization that wrote above the diagonal, or weights read from the wrong triangle, would change every round
    /// after the first.
    /// </summary>
    [Fact]
    public void GrokkingReadsTheGaussianWeightsOffTheKernelMatrix()
    {
        RfmChecks.WeightsFromKernelMatchStoredWeights(Backend);
    }

    [Fact]
    public void ValidationSelectsTheBestRoundAndProgressReportsEveryRound()
    {
        var (x, y) = Planted(300, 3);
        var (xv, yv) = Planted(100, 4);
        var reports = new List<RfmIteration>();
        var model = new RecursiveFeatureMachine(new RfmOptions { Rounds = 4, Backend = Backend })
            .Fit(x, y, (xv, yv), new SynchronousProgress(reports.Add));
        reports.Should().HaveCount(4);
        reports.Select(r => r.Iteration).Should().Equal(0, 1, 2, 3);
        int best = Enumerable.Range(0, 4).MinBy(t => model.History[t].ValidationMse);
        model.SelectedIteration.Should().Be(best);
        Mse(model.Predict(xv), yv).Should().BeApproximately(model.History[best].ValidationMse, 1e-9);
    }

    [Fact]
    public void AgopSampleIsSeededAndSaveLoadRoundTrips()
    {
        var (x, y) = Planted(200, 5);
        var options = new RfmOptions { Rounds = 3, AgopSampleSize = 80, Seed = 7, Backend = Backend, RecordFeatureMatrices = true };
        var a = new RecursiveFeatureMachine(options).Fit(x, y);
        var b = new RecursiveFeatureMachine(options).Fit(x, y);
        a.FeatureMatrix.Should().Be(b.FeatureMatrix);
        var c = new RecursiveFeatureMachine(options with { Seed = 8 }).Fit(x, y);
        c.FeatureMatrix.Should().NotBe(a.FeatureMatrix);

        using var stream = new MemoryStream();
        a.Save(stream);
        stream.Position = 0;
        var loaded = RfmModel<double>.Load(stream, Backend);
        loaded.FeatureMatrix.Should().Be(a.FeatureMatrix);
        loaded.History.Should().Equal(a.History);
        loaded.FeatureMatrixHistory.Should().HaveCount(3);
        loaded.Predict(x).Should().Be(a.Predict(x));

        string path = Path.Combine(Path.GetTempPath(), $"featurelearning-test-{Guid.NewGuid():N}.flrn");
        try
        {
            a.Save(path);
            RfmModel<double>.Load(path, Backend).Coefficients.Should().Be(a.Coefficients);
            a.Predictor.Save(path);
            KernelRidgeModel<double>.Load(path, Backend).Coefficients.Should().Be(a.Coefficients);
            ((Action)(() => RfmModel<double>.Load(path))).Should().Throw<InvalidDataException>().WithMessage("*'KRR1' model*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FeatureMatrixHistoryHandsOutCopies()
    {
        var (x, y) = Planted(60, 9);
        var model = new RecursiveFeatureMachine(new RfmOptions { Rounds = 3, Backend = Backend, RecordFeatureMatrices = true }).Fit(x, y);
        var predictions = model.Predict(x);
        var first = model.FeatureMatrixHistory;
        var snapshot = first.Select(m => m.Clone()).ToArray();
        snapshot[2].Should().Be(model.FeatureMatrix);
        snapshot[2].Should().NotBe(snapshot[0]);

        foreach (var m in first)
        {
            m.Clear();
            m[0, 0] = 1e6;
        }

        model.FeatureMatrixHistory.Should().HaveCount(3);
        model.FeatureMatrixHistory.Zip(snapshot).Should().OnlyContain(pair => pair.First.Equals(pair.Second));
        model.FeatureMatrix.Should().Be(snapshot[2]);
        model.Predict(x).Should().Be(predictions);
    }

    [Fact]
    public void SinglePrecisionRunsEndToEnd()
    {
        var (x, y) = Planted(300, 6);
        var model = new RecursiveFeatureMachine(new RfmOptions { Rounds = 3, Backend = Backend }).Fit(x.Map(v => (float)v), y.Map(v => (float)v));
        var diag = model.FeatureMatrix.Diagonal();
        (diag[0] + diag[1]).Should().BeGreaterThan(0.5 * diag.Sum());
    }

    [Fact]
    public void BadOptionsAndInputsAreRejected()
    {
        ((Action)(() => new RecursiveFeatureMachine(new RfmOptions { Rounds = 0 }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Rounds");
        ((Action)(() => new RecursiveFeatureMachine(new RfmOptions { AgopPower = 0 }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("AgopPower");
        ((Action)(() => new RecursiveFeatureMachine(new RfmOptions { AgopSampleSize = 0 }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("AgopSampleSize");
        ((Action)(() => new RecursiveFeatureMachine(new RfmOptions { Kernel = new GaussianKernel(-1) }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Bandwidth");
        var (x, y) = Planted(20, 7);
        var rfm = new RecursiveFeatureMachine(new RfmOptions { Backend = Backend });
        ((Action)(() => rfm.Fit(x, y, (x, Matrix<double>.Build.Dense(20, 2))))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("validation");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        ((Action)(() => rfm.Fit(x, y, cancellationToken: cts.Token))).Should().Throw<OperationCanceledException>();
    }

    private sealed class SynchronousProgress(Action<RfmIteration> handler) : IProgress<RfmIteration>
    {
        public void Report(RfmIteration value) => handler(value);
    }
}

public sealed class RfmConsistencyTests
{
    private static readonly ManagedBackend Backend = new();

    [Fact]
    public void OneRoundIsKernelRidge()
    {
        var x = Matrix<double>.Build.Random(60, 4, 1);
        var y = Matrix<double>.Build.Random(60, 2, 2);
        var rfm = new RecursiveFeatureMachine(new RfmOptions { Rounds = 1, Kernel = new GaussianKernel(1.3), Ridge = 0.01, Backend = Backend }).Fit(x, y);
        var krr = new KernelRidge(new KernelRidgeOptions { Kernel = new GaussianKernel(1.3), Ridge = 0.01, Backend = Backend }).Fit(x, y);
        rfm.Coefficients.Should().Be(krr.Coefficients);
        rfm.FeatureMatrix.Should().Be(Matrix<double>.Build.DenseIdentity(4));
    }

    /// <summary>
    /// A kernel of the inner-product-and-norms geometry that equals the Gaussian kernel must learn the same metrics as the
    /// Gaussian kernel: the AGOP of κ(xᵀMz, xᵀMx, zᵀMz) goes through the norm-derivative block, the Gaussian's through the
    /// radial one, so this ties the two gradient formulas together through RFM's rounds.
    /// </summary>
    [Theory]
    [InlineData(AgopForm.Direct, false)]
    [InlineData(AgopForm.Gram, true)]
    public void NormDependentGaussianLearnsTheGaussianMetrics(AgopForm form, bool centre)
    {
        var x = Matrix<double>.Build.Random(50, 3, 21);
        var y = Matrix<double>.Build.Dense(50, 2, (i, k) => Math.Sin(x[i, 0] + k) * x[i, 1]);
        var options = new RfmOptions { Kernel = new GaussianKernel(1.5), Rounds = 3, Ridge = 0.01, AgopForm = form, CenterGradients = centre, Backend = Backend };
        var radial = new RecursiveFeatureMachine(options).Fit(x, y);
        var norm = new RecursiveFeatureMachine(options with { Kernel = BackendConformanceTests.MakeKernel("normgaussian") }).Fit(x, y);
        (norm.FeatureMatrix - radial.FeatureMatrix).FrobeniusNorm().Should().BeLessThan(1e-8 * radial.FeatureMatrix.FrobeniusNorm());
        radial.FeatureMatrix.Should().NotBe(Matrix<double>.Build.DenseIdentity(3), "the rounds must have learned a metric");
    }

    [Theory]
    [InlineData(AgopForm.Direct, 1, false, null)]
    [InlineData(AgopForm.Direct, 3, true, null)]
    [InlineData(AgopForm.Direct, 3, false, 41)]
    [InlineData(AgopForm.Gram, 3, true, null)]
    [InlineData(AgopForm.Gram, 1, false, 41)]
    public void BlocksGiveTheSameFitAsOneBlock(AgopForm form, int outputs, bool centre, int? sample)
    {
        // n = 60, d = 3: c = 3 takes the batched direct form (c·d·5 ≤ n), c = 1 the per-output one; block 7 leaves a
        // shorter last block of the 60 training, 41 sampled and 23 validation rows.
        var x = Matrix<double>.Build.Random(60, 3, 11);
        var y = Matrix<double>.Build.Dense(60, outputs, (i, k) => Math.Sin(x[i, 0] + k) * x[i, 1]);
        var xv = Matrix<double>.Build.Random(23, 3, 12);
        var yv = Matrix<double>.Build.Dense(23, outputs, (i, k) => Math.Sin(xv[i, 0] + k) * xv[i, 1]);
        var options = new RfmOptions
        {
            Kernel = new LaplaceKernel(2), Rounds = 3, AgopForm = form, CenterGradients = centre, AgopSampleSize = sample, Seed = 5,
            SelectBy = SelectionMetric.Last, Backend = Backend,
        };
        var whole = new RecursiveFeatureMachine(options).Fit(x, y, (xv, yv));
        var blocked = new RecursiveFeatureMachine(options with { BlockSize = 7 }).Fit(x, y, (xv, yv));

        (blocked.FeatureMatrix - whole.FeatureMatrix).FrobeniusNorm().Should().BeLessThan(1e-10 * whole.FeatureMatrix.FrobeniusNorm());
        whole.FeatureMatrix.Should().NotBe(Matrix<double>.Build.DenseIdentity(3), "the rounds must have learned a metric");
        for (int t = 0; t < 3; t++)
        {
            blocked.History[t].ValidationMse.Should().BeApproximately(whole.History[t].ValidationMse, 1e-10 * whole.History[t].ValidationMse);
        }
    }

    [Fact]
    public void BlockSizeBoundsTheLargestLiveAllocation()
    {
        // Without blocks a round holds K and the n × n derivative weights; with BlockSize = b, K and two b × n blocks.
        int n = 300, d = 4, b = 32;
        var x = Matrix<double>.Build.Random(n, d, 21);
        var y = Matrix<double>.Build.Dense(n, 1, (i, _) => x[i, 0] * x[i, 1]);
        var options = new RfmOptions { Rounds = 2, AgopForm = AgopForm.Direct };
        var wholeBackend = new PeakTrackingBackend(Backend);
        new RecursiveFeatureMachine(options with { Backend = wholeBackend }).Fit(x, y);
        var blockedBackend = new PeakTrackingBackend(Backend);
        new RecursiveFeatureMachine(options with { Backend = blockedBackend, BlockSize = b }).Fit(x, y);

        long kernelMatrix = (long)n * n;
        long slack = 4 * (long)n * d;
        wholeBackend.PeakElements.Should().BeGreaterThanOrEqualTo(2 * kernelMatrix);
        blockedBackend.PeakElements.Should().BeGreaterThanOrEqualTo(kernelMatrix + (2L * b * n));
        blockedBackend.PeakElements.Should().BeLessThanOrEqualTo(kernelMatrix + (2L * b * n) + slack);
        ((Action)(() => new RfmOptions { BlockSize = 0 }.Validate())).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("BlockSize");
    }

    [Fact]
    public void SelectionLastOnlyMonitorsTheValidationSet()
    {
        var x = Matrix<double>.Build.Random(80, 3, 3);
        var y = Matrix<double>.Build.Dense(80, 1, (i, _) => x[i, 0]);
        var model = new RecursiveFeatureMachine(new RfmOptions { Rounds = 3, SelectBy = SelectionMetric.Last, Backend = Backend }).Fit(x, y, (x, y));
        model.SelectedIteration.Should().Be(2);
        model.History.Should().OnlyContain(h => !double.IsNaN(h.ValidationMse));
    }
}

public sealed class TabularDataTests
{
    /// <summary>The NTK row of samples/Tabular: kernel ridge with the analytic NTK of a depth-2 ReLU network on UCI digits.</summary>
    [Fact]
    public void NtkKernelRidgeClassifiesDigits()
    {
        var data = LabeledDataSet.LoadCsv(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"), skipHeader: false);
        var (train, test) = data.StratifiedSplit(0.7, seed: 0);
        var scaler = FeatureScaler.Fit(train.Features);
        var kernel = FeatureLearning.Ntk.NeuralKernel.Ntk(new FeatureLearning.Ntk.InfiniteWidthKernel(FeatureLearning.Networks.Activation.Relu, 2, Math.Sqrt(2), 0.1), data.Features.ColumnCount);
        var model = new KernelRidge(new KernelRidgeOptions { Kernel = kernel, Ridge = 1e-3, Backend = new ManagedBackend() })
            .Fit(scaler.Transform(train.Features), OneHot.Encode(train.Labels, data.Classes));
        double accuracy = OneHot.Accuracy(model.PredictClass(scaler.Transform(test.Features)), test.Labels);
        accuracy.Should().BeGreaterThan(0.97, "kernel ridge with the NTK separates the ten digit classes");
    }

    [Fact]
    public void StratifiedSplitKeepsClassProportionsAndScalerStandardises()
    {
        var data = LabeledDataSet.LoadCsv(Path.Combine(AppContext.BaseDirectory, "data", "wine_data.csv"), skipHeader: true);
        data.Count.Should().Be(178);
        data.Features.ColumnCount.Should().Be(13);
        var (train, test) = data.StratifiedSplit(0.7, seed: 1);
        (train.Count + test.Count).Should().Be(178);
        for (int c = 0; c < 3; c++)
        {
            double all = data.Labels.Count(l => l == c) / 178.0;
            double part = train.Labels.Count(l => l == c) / (double)train.Count;
            part.Should().BeApproximately(all, 0.01);
        }

        var scaled = FeatureScaler.Fit(train.Features).Transform(train.Features);
        for (int j = 0; j < 13; j++)
        {
            scaled.Column(j).Average().Should().BeApproximately(0, 1e-12);
            Math.Sqrt(scaled.Column(j).Select(v => v * v).Average()).Should().BeApproximately(1, 1e-12);
        }
    }
}
