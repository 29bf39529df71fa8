using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
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

    /// <summary>Fits the coefficients by one Cholesky solve of (K + λI)α = Y.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the whole computation.</typeparam>
    /// <param name="x">Inputs, n × d, one point per row.</param>
    /// <param name="y">Targets, n × c (one-hot rows for classification).</param>
    /// <param name="cancellationToken">Checked between the kernel matrix, the factorization blocks and the solve.</param>
    /// <returns>The immutable fitted model.</returns>
    /// <exception cref="ArgumentException">Empty data, NaN/∞, a row-count mismatch, or a metric of another dimension.</exception>
    /// <exception cref="MatrixNotPositiveDefiniteException">The solve failed even with the allowed jitter.</exception>
    public KernelRidgeModel<T> Fit<T>(Matrix<T> x, Matrix<T> y, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        Validation.TrainingData(x, y, Options.Metric);

        var backend = Options.Backend ?? ComputeBackends.Default;
        var logger = Options.Logger ?? NullLogger.Instance;
        int n = x.RowCount, d = x.ColumnCount, c = y.ColumnCount;
        var xData = x.ToRowMajorArray();
        var stopwatch = Stopwatch.StartNew();

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
