using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Solvers;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.Extensions.Logging.Abstractions;

namespace FeatureLearning.Rfm;

/// <summary>
/// The Recursive Feature Machine (Radhakrishnan et al., Science 2024): alternate a kernel ridge solve with the
/// metric M_t and the update M_{t+1} = normalize(AGOP(f_t)^p) of the fitted predictor's Average Gradient Outer
/// Product. On modular arithmetic this "groks" (Mallinar et al. 2024): see <see cref="RfmOptions.Grokking"/>.
/// </summary>
/// <remarks>
/// Rounds are numbered from 0 everywhere (<see cref="RfmIteration.Iteration"/>, its <c>ToString()</c>,
/// <see cref="RfmModel{T}.SelectedIteration"/>, the log and the model file): round 0 is the kernel machine with the
/// initial metric, round T − 1 the last.
/// </remarks>
/// <example>
/// <code>
/// using FeatureLearning.Data;
/// using FeatureLearning.Kernels;
/// using FeatureLearning.Rfm;
/// using MathNet.Numerics.LinearAlgebra;
///
/// var data = LabeledDataSet.LoadCsv("data/digits.csv.gz");
/// var (train, validation) = data.StratifiedSplit(0.8, seed: 0);
/// var options = new RfmOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3, Rounds = 5, OnRound = round =&gt; Console.WriteLine(round) };
/// RfmModel&lt;double&gt; rfm = new RecursiveFeatureMachine(options).Fit(
///     train.Features / 16.0, OneHot.Encode(train.Labels, data.Classes),
///     validation: (validation.Features / 16.0, OneHot.Encode(validation.Labels, data.Classes)));
/// Matrix&lt;double&gt; m = rfm.FeatureMatrix;          // the learned metric M, d × d
/// Console.WriteLine($"kept {rfm.History[rfm.SelectedIteration]}");   // History[SelectedIteration]: rounds count from 0
/// </code>
/// </example>
public sealed class RecursiveFeatureMachine
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">The options; validated here.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public RecursiveFeatureMachine(RfmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public RfmOptions Options { get; }

    /// <summary>Runs the RFM rounds and returns the fitted model.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the whole computation.</typeparam>
    /// <param name="x">Training inputs, n × d.</param>
    /// <param name="y">Training targets, n × c (one-hot rows for classification).</param>
    /// <param name="validation">Optional validation set: its errors are recorded per round, and the round with the best
    /// validation metric (<see cref="RfmOptions.SelectBy"/>) is returned; without one, the last round.</param>
    /// <param name="progress">Receives one <see cref="RfmIteration"/> per round. <see cref="Progress{T}"/> reports on the thread
    /// pool, so its last reports may arrive after <c>Fit</c> returns; for a synchronous, ordered callback use <see cref="RfmOptions.OnRound"/>.</param>
    /// <param name="cancellationToken">Checked between the steps of each round.</param>
    /// <returns>The immutable fitted model.</returns>
    /// <exception cref="ArgumentException">Empty data, NaN/∞, mismatched shapes.</exception>
    /// <exception cref="ArithmeticException">A solve or the AGOP became non-finite, or the AGOP vanished.</exception>
    public RfmModel<T> Fit<T>(
        Matrix<T> x, Matrix<T> y, (Matrix<T> X, Matrix<T> Y)? validation = null, IProgress<RfmIteration>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        Validation.TrainingData(x, y, Options.InitialMetric);
        if (validation is { } v)
        {
            Validation.NonEmptyFinite(v.X, nameof(validation));
            Validation.NonEmptyFinite(v.Y, nameof(validation));
            if (v.X.ColumnCount != x.ColumnCount || v.Y.ColumnCount != y.ColumnCount || v.X.RowCount != v.Y.RowCount)
            {
                throw new ArgumentException($"The validation set must have {x.ColumnCount} input and {y.ColumnCount} target columns and one target row per input row.", nameof(validation));
            }
        }

        var run = new Run<T>(this, x, y, validation, cancellationToken);
        return run.Execute(progress);
    }

    /// <summary>The state of one fit: device buffers that live across rounds, and the history.</summary>
    private sealed class Run<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly RfmOptions o;
        private readonly IComputeBackend be;
        private readonly Microsoft.Extensions.Logging.ILogger logger;
        private readonly int n, d, c;
        private readonly T[] xHost, yHost;
        private readonly T[]? xvHost, yvHost;
        private readonly int nv;
        private readonly int[]? sample;
        private readonly T[]? sampleHost;
        private readonly int blockRows;
        private readonly CancellationToken ct;

        public Run(RecursiveFeatureMachine owner, Matrix<T> x, Matrix<T> y, (Matrix<T> X, Matrix<T> Y)? validation, CancellationToken ct)
        {
            o = owner.Options;
            be = o.Backend ?? ComputeBackends.Default;
            logger = o.Logger ?? NullLogger.Instance;
            (n, d, c) = (x.RowCount, x.ColumnCount, y.ColumnCount);
            xHost = x.ToRowMajorArray();
            yHost = y.ToRowMajorArray();
            if (validation is { } v)
            {
                xvHost = v.X.ToRowMajorArray();
                yvHost = v.Y.ToRowMajorArray();
                nv = v.X.RowCount;
            }

            int? sampleSize = o.AgopSampleSize ?? (o.Solver is NystromSolver ? RfmOptions.DefaultNystromAgopSampleSize : null);
            if (sampleSize is { } size && size < n)
            {
                sample = SeededSample.Indices(n, size, o.Seed);
                sampleHost = sample.SelectMany(i => xHost.AsSpan(i * d, d).ToArray()).ToArray();
            }

            blockRows = o.BlockSize ?? (o.Solver is NystromSolver nystrom ? nystrom.BlockRows : int.MaxValue);

            this.ct = ct;
        }

        public RfmModel<T> Execute(IProgress<RfmIteration>? progress)
        {
            if (o.Solver is NystromSolver nystrom)
            {
                return ExecuteNystrom(nystrom, progress);
            }

            int iterations = o.Rounds;
            var history = new List<RfmIteration>(iterations);
            var metrics = new List<Matrix<double>>();
            var metric = o.InitialMetric;
            var selection = new RoundSelection<(Metric Metric, T[] Alpha, double Jitter)>(o.SelectBy, c, xvHost is not null);

            using var xb = be.Upload<T>(xHost, n, d);

            // The centres' non-zero pattern, found once per fit: under Auto it lets the AGOP take the sparse direct form.
            var sparsity = SparseColumns.ForAgop<T>(o.AgopForm, be, xHost, n, d);
            int m = sample?.Length ?? n;
            bool blocked = blockRows < m;
            using var xs = sampleHost is null || blocked ? null : be.Upload<T>(sampleHost, m, d);
            using var k = be.Allocate<T>(n, n);

            // Where the AGOP can read the Gaussian's weights W = −K/(2L²) off K's strict upper triangle, which the CPU
            // factorizations leave as it was, no m × n W is computed or stored.
            bool weightsFromKernel = iterations > 1 && sample is null && !blocked && AgopEngine.ReadsWeightsFromKernel<T>(be, o.Kernel, n, d, c, o.AgopForm, sparsity);
            using var w = iterations > 1 && !blocked && !weightsFromKernel ? be.Allocate<T>(m, o.Kernel.DerivativeWeightColumns(n)) : null;
            using var alpha = be.Allocate<T>(n, c);
            var alphaHost = new T[n * c];

            for (int t = 0; t < iterations; t++)
            {
                ct.ThrowIfCancellationRequested();
                bool update = t < iterations - 1;
                if (o.RecordFeatureMatrices)
                {
                    metrics.Add(metric.ToMatrix(d));
                }

                using var mb = metric.Upload<T>(be);

                // Kernel matrix (with the AGOP's derivative weights when the sample is the training set, unless read off K).
                var clock = Stopwatch.StartNew();
                be.KernelMatrix(o.Kernel, xb, xb, mb, k, update && sample is null && !weightsFromKernel ? w : null);
                be.Synchronize();
                double kernelSeconds = clock.Elapsed.TotalSeconds;
                ct.ThrowIfCancellationRequested();

                // Solve (K + λI)α = Y.
                var (report, solveSeconds) = RidgeSolve.Solve<T>(
                    be, k, o.Ridge, o.Cholesky, yHost, alpha, alphaHost, r => Log.RfmJitter(logger, t, r.Jitter, r.Attempts),
                    $"RFM round {t}: the kernel solve produced non-finite coefficients. Increase the ridge or use double precision.", ct);

                // Errors: on the training set Kα = Y − (λ + jitter)α exactly, so no second kernel matrix is needed.
                var (trainMse, trainAcc) = TrainErrors(o.Ridge + report.Jitter, alphaHost);
                double valMse = double.NaN, valAcc = double.NaN;
                if (xvHost is not null)
                {
                    clock.Restart();
                    (valMse, valAcc) = ValidationErrors(xb, mb, alpha);
                    kernelSeconds += clock.Elapsed.TotalSeconds;
                }

                var roundMetric = metric;
                selection.Offer(t, !update, valMse, valAcc, () => (roundMetric, (T[])alphaHost.Clone(), report.Jitter));

                // AGOP and the new metric.
                double agopSeconds = 0;
                var nextMetric = metric;
                if (update)
                {
                    ct.ThrowIfCancellationRequested();
                    clock.Restart();
                    double[] g;
                    if (weightsFromKernel)
                    {
                        g = AgopEngine.ComputeFromKernel(be, o.Kernel, metric, mb, xb, alpha, k, o.CenterGradients, o.AgopForm, sparsity!, ct);
                    }
                    else if (blocked)
                    {
                        g = AgopEngine.ComputeBlocked(be, o.Kernel, metric, mb, sampleHost ?? xHost, m, xb, alpha, o.CenterGradients, o.AgopForm, blockRows, ct, sparsity);
                    }
                    else
                    {
                        if (xs is not null)
                        {
                            using var ks = be.Allocate<T>(xs.Rows, n);
                            be.KernelMatrix(o.Kernel, xs, xb, mb, ks, w);
                        }

                        g = AgopEngine.Compute(be, o.Kernel, metric, mb, xs ?? xb, xb, alpha, w!, o.CenterGradients, o.AgopForm, ct, sparsity);
                    }

                    nextMetric = NextMetric(g, t);
                    agopSeconds = clock.Elapsed.TotalSeconds;
                }

                var record = new RfmIteration(t, iterations, trainMse, trainAcc, valMse, valAcc, report.Jitter, kernelSeconds, solveSeconds, agopSeconds) { RefinementSteps = report.RefinementSteps };
                history.Add(record);
                Log.RfmIteration(logger, t, iterations - 1, trainMse, valMse, valAcc, record.Seconds);
                o.OnRound?.Invoke(record);
                progress?.Report(record);
                metric = nextMetric;
            }

            var chosen = selection.State;
            var predictor = new KernelRidgeModel<T>(o.Kernel, chosen.Metric, o.Ridge, chosen.Jitter, xHost, n, d, chosen.Alpha, c, be);
            return new RfmModel<T>(predictor, history, metrics, selection.Iteration);
        }

        /// <summary>
        /// The rounds on the Nyström predictor: centres drawn once, then per round the Nyström solve with M_t, the errors of
        /// K_nmβ on every training point, and the AGOP over the centres (X_c = centres, α = β) on the AGOP sample in blocks.
        /// </summary>
        private RfmModel<T> ExecuteNystrom(NystromSolver nystrom, IProgress<RfmIteration>? progress)
        {
            int iterations = o.Rounds;
            var history = new List<RfmIteration>(iterations);
            var metrics = new List<Matrix<double>>();
            var metric = o.InitialMetric;
            var selection = new RoundSelection<(Metric Metric, T[] Alpha, double Jitter)>(o.SelectBy, c, xvHost is not null);
            double tolerance = nystrom.ToleranceFor<T>();

            using var xb = be.Upload<T>(xHost, n, d);
            using var yb = be.Upload<T>(yHost, n, c);
            int[] indices;
            using (var initial = metric.Upload<T>(be))
            {
                indices = NystromCentres.Select(be, o.Kernel, xb, initial, o.Ridge, nystrom, o.Cholesky, ct);
            }

            int m = indices.Length;
            var centresHost = NystromRidge.Gather(xHost, d, indices);
            using var centres = be.Upload<T>(centresHost, m, d);

            // The centres' non-zero pattern, found once per fit as in the exact path (AGOP's sparse direct form).
            var sparsity = SparseColumns.ForAgop<T>(o.AgopForm, be, centresHost, m, d);
            using var beta = be.Allocate<T>(m, c);
            using var fitted = be.Allocate<T>(n, c);
            var betaHost = new T[m * c];
            var fittedHost = new T[n * c];

            for (int t = 0; t < iterations; t++)
            {
                ct.ThrowIfCancellationRequested();
                bool update = t < iterations - 1;
                if (o.RecordFeatureMatrices)
                {
                    metrics.Add(metric.ToMatrix(d));
                }

                using var mb = metric.Upload<T>(be);
                var clock = Stopwatch.StartNew();
                var report = NystromRidge.Solve(be, o.Kernel, xb, mb, centres, indices, yb, beta, o.Ridge, nystrom, o.Cholesky, t, o.OnSolverIteration, fitted, ct);
                be.Synchronize();
                double solveSeconds = clock.Elapsed.TotalSeconds;
                NystromRidge.LogReport(logger, t, report, tolerance);
                be.Download(beta, betaHost);
                NystromRidge.CheckFinite(betaHost);

                // Training errors of the Nyström predictor itself, K_nmβ on all n training points.
                be.Download(fitted, fittedHost);
                var (trainMse, trainAcc) = FitErrors.Compute<T>(fittedHost.Select(double.CreateTruncating).ToArray(), yHost, n, c);
                double valMse = double.NaN, valAcc = double.NaN, kernelSeconds = 0;
                if (xvHost is not null)
                {
                    clock.Restart();
                    (valMse, valAcc) = ValidationErrors(centres, mb, beta);
                    kernelSeconds = clock.Elapsed.TotalSeconds;
                }

                var roundMetric = metric;
                selection.Offer(t, !update, valMse, valAcc, () => (roundMetric, (T[])betaHost.Clone(), report.Jitter));

                double agopSeconds = 0;
                var nextMetric = metric;
                if (update)
                {
                    ct.ThrowIfCancellationRequested();
                    clock.Restart();
                    var g = AgopEngine.ComputeBlocked(
                        be, o.Kernel, metric, mb, sampleHost ?? xHost, sample?.Length ?? n, centres, beta, o.CenterGradients, o.AgopForm, blockRows, ct, sparsity);
                    nextMetric = NextMetric(g, t);
                    agopSeconds = clock.Elapsed.TotalSeconds;
                }

                var record = new RfmIteration(t, iterations, trainMse, trainAcc, valMse, valAcc, report.Jitter, kernelSeconds, solveSeconds, agopSeconds)
                {
                    SolverIterations = report.Iterations,
                    SolverResidual = report.FinalResidual,
                };
                history.Add(record);
                Log.RfmIteration(logger, t, iterations - 1, trainMse, valMse, valAcc, record.Seconds);
                o.OnRound?.Invoke(record);
                progress?.Report(record);
                metric = nextMetric;
            }

            var chosen = selection.State;
            var predictor = new KernelRidgeModel<T>(o.Kernel, chosen.Metric, o.Ridge, chosen.Jitter, centresHost, m, d, chosen.Alpha, c, be);
            return new RfmModel<T>(predictor, history, metrics, selection.Iteration);
        }

        private (double Mse, double Accuracy) TrainErrors(double shift, T[] alphaHost)
        {
            var predictions = new double[n * c];
            for (int i = 0; i < predictions.Length; i++)
            {
                predictions[i] = double.CreateTruncating(yHost[i]) - (shift * double.CreateTruncating(alphaHost[i]));
            }

            return FitErrors.Compute<T>(predictions, yHost, n, c);
        }

        /// <summary>
        /// Validation errors of the predictor with centres <paramref name="xb"/> and coefficients <paramref name="alpha"/>, the
        /// validation points taken at most <see cref="RfmOptions.BlockSize"/> rows at a time: on a CPU backend K(X_v, X)·α
        /// tile by tile (<see cref="CpuBackend.KernelProduct{T, TKernel}"/>), elsewhere the kernel matrix and a GEMM.
        /// </summary>
        private (double Mse, double Accuracy) ValidationErrors(DeviceBuffer<T> xb, DeviceBuffer<T>? mb, DeviceBuffer<T> alpha)
        {
            var host = new T[nv * c];
            int rowsPerBlock = Math.Min(blockRows, nv);
            for (int i0 = 0; i0 < nv; i0 += rowsPerBlock)
            {
                int rows = Math.Min(rowsPerBlock, nv - i0);
                using var xv = be.Upload<T>(xvHost.AsSpan(i0 * d, rows * d), rows, d);
                using var f = be.Allocate<T>(rows, c);
                KernelProducts.Compute(be, o.Kernel, xv, xb, mb, alpha, f);
                be.Download(f, host.AsSpan(i0 * c, rows * c));
            }

            return FitErrors.Compute<T>(host.Select(double.CreateTruncating).ToArray(), yvHost, nv, c);
        }

        private Metric NextMetric(double[] g, int t) => MetricUpdate.Next(be, g, d, o.Diagonal, o.AgopPower, o.Normalization, t);
    }
}
