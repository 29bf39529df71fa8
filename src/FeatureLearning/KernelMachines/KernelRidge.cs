using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Solvers;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.Extensions.Logging.Abstractions;

namespace FeatureLearning.KernelMachines;

/// <summary>
/// Kernel ridge regression with a Mahalanobis kernel: α = (K + λI)⁻¹Y with K_ij = k_M(x_i, x_j), and the
/// predictor f(x) = Σ_i α_i k_M(x, x_i). Multi-output targets (one column per output); classification by
/// one-hot targets and <see cref="KernelRidgeModel{T}.PredictClass"/>.
/// </summary>
/// <example>
/// <code>
/// // using FeatureLearning.Data; using FeatureLearning.KernelMachines; using FeatureLearning.Kernels;
/// var data = LabeledDataSet.LoadCsv("digits.csv.gz", skipHeader: false);
/// var (train, test) = data.StratifiedSplit(0.7, seed: 0);
/// var model = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(10), Ridge = 1e-3 })
///     .Fit(train.Features, OneHot.Encode(train.Labels, data.Classes));
/// double accuracy = OneHot.Accuracy(model.PredictClass(test.Features), test.Labels);
/// </code>
/// </example>
public sealed class KernelRidge
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">The options; validated here.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public KernelRidge(KernelRidgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public KernelRidgeOptions Options { get; }

    /// <summary>
    /// Fits the coefficients: by one Cholesky solve of (K + λI)α = Y with the exact solver, or by the Nyström solver's
    /// preconditioned conjugate gradients over its centres (<see cref="KernelRidgeOptions.Solver"/>).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the whole computation.</typeparam>
    /// <param name="x">Inputs, n × d, one point per row.</param>
    /// <param name="y">Targets, n × c (one-hot rows for classification).</param>
    /// <param name="cancellationToken">Checked between the kernel matrix, the factorization blocks and the solve (and every CG iteration and streamed block of the Nyström solver).</param>
    /// <returns>The immutable fitted model.</returns>
    /// <exception cref="ArgumentException">Empty data, NaN/∞, a row-count mismatch, or a metric of another dimension.</exception>
    /// <exception cref="MatrixNotPositiveDefiniteException">The solve failed even with the allowed jitter.</exception>
    /// <exception cref="ArithmeticException">The coefficients are not finite.</exception>
    public KernelRidgeModel<T> Fit<T>(Matrix<T> x, Matrix<T> y, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T> => Fit(x, y, null, cancellationToken);

    /// <summary>Fits the coefficients as <see cref="Fit{T}(Matrix{T}, Matrix{T}, CancellationToken)"/>, reporting the Nyström solver's CG iterations.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the whole computation.</typeparam>
    /// <param name="x">Inputs, n × d, one point per row.</param>
    /// <param name="y">Targets, n × c (one-hot rows for classification).</param>
    /// <param name="progress">Receives one <see cref="SolverProgress"/> per CG iteration of the Nyström solver (nothing for the exact
    /// solver); <see cref="Progress{T}"/> reports on the thread pool, so late reports may arrive after <c>Fit</c> returns.</param>
    /// <param name="cancellationToken">Checked between the steps, every CG iteration and every streamed block.</param>
    /// <returns>The immutable fitted model.</returns>
    /// <exception cref="ArgumentException">Empty data, NaN/∞, a row-count mismatch, or a metric of another dimension.</exception>
    /// <exception cref="MatrixNotPositiveDefiniteException">A factorization failed even with the allowed jitter.</exception>
    /// <exception cref="ArithmeticException">The coefficients are not finite.</exception>
    public KernelRidgeModel<T> Fit<T>(Matrix<T> x, Matrix<T> y, IProgress<SolverProgress>? progress, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        Validation.TrainingData(x, y, Options.Metric);

        var backend = Options.Backend ?? ComputeBackends.Default;
        var logger = Options.Logger ?? NullLogger.Instance;
        int n = x.RowCount, d = x.ColumnCount, c = y.ColumnCount;
        var xData = x.ToRowMajorArray();
        var stopwatch = Stopwatch.StartNew();
        if (Options.Solver is NystromSolver nystrom)
        {
            var fit = NystromRidge.Fit(
                backend, Options.Kernel, Options.Metric, xData, n, d, y.ToRowMajorArray(), c, Options.Ridge, nystrom, Options.Cholesky, 0,
                progress is null ? null : progress.Report, cancellationToken);
            NystromRidge.LogReport(logger, 0, fit.Report, nystrom.ToleranceFor<T>());
            Log.KernelRidgeFitted(logger, n, d, c, stopwatch.ElapsedMilliseconds, backend.Name);
            return new KernelRidgeModel<T>(Options.Kernel, Options.Metric, Options.Ridge, fit.Report.Jitter, fit.Centres, fit.Report.Centres, d, fit.Beta, c, backend)
            {
                Nystrom = fit.Report,
            };
        }


        using var xb = backend.Upload<T>(xData, n, d);
        using var metric = Options.Metric.Upload<T>(backend);
        using var k = backend.Allocate<T>(n, n);
        backend.KernelMatrix(Options.Kernel, xb, xb, metric, k);
        cancellationToken.ThrowIfCancellationRequested();
        using var alpha = backend.Allocate<T>(n, c);
        var coefficients = new T[n * c];
        var (report, _) = RidgeSolve.Solve<T>(
            backend, k, Options.Ridge, Options.Cholesky, y.ToRowMajorArray(), alpha, coefficients,
            r => Log.JitterAdded(logger, n, Options.Ridge, r.Jitter, r.Attempts),
            "Kernel ridge produced non-finite coefficients: the system is too ill-conditioned in this precision. Increase the ridge or use double precision.",
            cancellationToken);
        Log.KernelRidgeFitted(logger, n, d, c, stopwatch.ElapsedMilliseconds, backend.Name);

        return new KernelRidgeModel<T>(Options.Kernel, Options.Metric, Options.Ridge, report.Jitter, xData, n, d, coefficients, c, backend);
    }
}
