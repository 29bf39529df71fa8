using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.Extensions.Logging.Abstractions;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// The convolutional RFM (Radhakrishnan, Beaglehole, Belkin, Pandit, "Mechanism of feature learning in convolutional
/// neural networks"): a kernel machine with a convolutional kernel over the P q × q patch positions, the all-pairs
/// K_M(x, z) = (1/P²) Σ_{p,p'} k_M(x_p, z_p') or the aligned K_M(x, z) = (1/P) Σ_p k_M(x_p, z_p)
/// (<see cref="ConvRfmOptions.Pairing"/>), whose C·q² × C·q² patch metric M is updated from the patch AGOP
/// G = (1/n) Σ_i Σ_p Σ_k ∇_{x_{i,p}} f_k(x_i) ∇_{x_{i,p}} f_k(x_i)ᵀ, every patch copy its own variable.
/// </summary>
/// <remarks>
/// Per round: the n × n kernel matrix (P kernel matrices of the n × C·q² im2col patch matrices for the aligned form;
/// (n·P)² patch pairs reduced block by block for the all-pairs form), one n × n Cholesky solve, and the patch AGOP from
/// the GEMM-only AGOP engine (see <see cref="ConvKernel{T}"/>). The base kernel may be radial (Laplace, Gaussian,
/// generalized Laplace) or a dot product (<see cref="PolynomialKernel"/>). <see cref="DeepConvRfm"/> stacks layers.
/// </remarks>
/// <example>
/// <code>
/// var digits = LocalSignal.Digits(LabeledDataSet.LoadCsv("digits.csv.gz"));
/// var model = new ConvolutionalRfm(new ConvRfmOptions { PatchSize = 3, Rounds = 3 })
///     .Fit(digits, OneHot.Encode&lt;double&gt;(labels, 10));
/// Matrix&lt;double&gt; m = model.FeatureMatrix; // its top eigenvectors, reshaped q × q, are the learned filters
/// </code>
/// </example>
public sealed class ConvolutionalRfm
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">Options; validated here.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public ConvolutionalRfm(ConvRfmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public ConvRfmOptions Options { get; }

    /// <summary>Runs the rounds.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the whole computation. The images
    /// stay <see cref="ImageBatch"/> (double) on the host; their patches are converted to <typeparamref name="T"/> once,
    /// when they are cut, and everything on the backend (kernel matrices, solve, patch AGOP) runs in
    /// <typeparamref name="T"/>. The AGOP is accumulated and the metric <see cref="Metric"/> kept in double.</typeparam>
    /// <param name="x">Training images.</param>
    /// <param name="y">Targets, n × c (one-hot for classification).</param>
    /// <param name="validation">Optional validation images and targets: their errors are recorded per round, and the round with
    /// the best validation metric (<see cref="ConvRfmOptions.SelectBy"/>) is returned; without one, the last round.</param>
    /// <param name="progress">One report per round.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The fitted model of the selected round (<see cref="ConvRfmModel{T}.SelectedIteration"/>).</returns>
    /// <exception cref="ArgumentException">Mismatched shapes, non-finite targets, or patches that do not fit the images.</exception>
    /// <exception cref="InsufficientMemoryException">The estimated memory of the fit exceeds <see cref="ConvRfmOptions.MemoryBudgetBytes"/> (thrown before anything large is allocated).</exception>
    public ConvRfmModel<T> Fit<T>(ImageBatch x, Matrix<T> y, (ImageBatch X, Matrix<T> Y)? validation = null, IProgress<RfmIteration>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        ArgumentNullException.ThrowIfNull(x);
        Validation.NonEmptyFinite(y, nameof(y));
        if (y.RowCount != x.Count)
        {
            throw new ArgumentException($"{y.RowCount} target rows for {x.Count} images.", nameof(y));
        }

        if (validation is { } v0 && (v0.X is null || v0.Y is null || v0.Y.RowCount != v0.X.Count || v0.Y.ColumnCount != y.ColumnCount))
        {
            throw new ArgumentException($"The validation set needs one target row of {y.ColumnCount} columns per image.", nameof(validation));
        }

        var be = Options.Backend ?? ComputeBackends.Default;
        var logger = Options.Logger ?? NullLogger.Instance;
        var layout = PatchLayout.For(Options, x);
        ConvRfmMemory.Check(ConvRfmMemory.FitBytes<T>(layout, Options, x.Count, y.ColumnCount, validation?.X.Count ?? 0), Options, $"ConvRFM on {x.Count} images of {layout.OutputHeight} x {layout.OutputWidth} = {layout.OutputHeight * layout.OutputWidth} patch positions");
        var train = layout.Set<T>(x);
        int n = x.Count, c = y.ColumnCount, d = layout.Dimension, iterations = Options.Rounds;
        var validationTargets = validation?.Y.ToRowMajorArray();
        var convKernel = new ConvKernel<T>(be, Options.Kernel, Options.Pairing, Options.MaxBlockElements);
        var yHost = y.ToRowMajorArray();
        var metric = Metric.Identity;
        var history = new List<RfmIteration>();
        var alphaHost = new T[n * c];
        var selection = new RoundSelection<(Metric Metric, T[] Alpha)>(Options.SelectBy, c, validation is not null);

        // The patches are uploaded once and stay on the device for every round.
        using var trainPatches = convKernel.Upload(train);
        using var validationPatches = validation is { } v ? convKernel.Upload(layout.Set<T>(v.X)) : null;
        using var samplePatches = Options.AgopSampleSize is { } size && size < n ? convKernel.Upload(train.Subset(SeededSample.Indices(n, size, Options.Seed))) : null;
        using var k = be.Allocate<T>(n, n);
        using var alpha = be.Allocate<T>(n, c);
        for (int t = 0; t < iterations; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool update = t < iterations - 1;
            using var mb = metric.Upload<T>(be);
            var clock = Stopwatch.StartNew();
            convKernel.Matrix(trainPatches, trainPatches, mb, k);
            double kernelSeconds = clock.Elapsed.TotalSeconds;
            cancellationToken.ThrowIfCancellationRequested();

            var (report, solveSeconds) = RidgeSolve.Solve(
                be, k, Options.Ridge, Options.Cholesky, yHost, alpha, alphaHost, r => Log.ConvRfmJitter(logger, t, r.Jitter, r.Attempts),
                $"ConvRFM round {t}: the kernel solve produced non-finite coefficients. Increase the ridge.", cancellationToken);

            // On the training set Kα = Y − (λ + jitter)α exactly.
            double shift = Options.Ridge + report.Jitter;
            var train0 = FitErrors.Compute<T>(yHost.Select((value, i) => double.CreateTruncating(value) - (shift * double.CreateTruncating(alphaHost[i]))).ToArray(), yHost, n, c);
            (double Mse, double Accuracy) val = (double.NaN, double.NaN);
            if (validationPatches is not null)
            {
                clock.Restart();
                val = FitErrors.Compute<T>(convKernel.Predict(validationPatches, trainPatches, mb, alpha).Select(double.CreateTruncating).ToArray(), validationTargets, validationPatches.Count, c);
                kernelSeconds += clock.Elapsed.TotalSeconds;
            }

            var roundMetric = metric;
            selection.Offer(t, !update, val.Mse, val.Accuracy, () => (roundMetric, (T[])alphaHost.Clone()));

            double agopSeconds = 0;
            var next = metric;
            if (update)
            {
                cancellationToken.ThrowIfCancellationRequested();
                clock.Restart();
                var g = convKernel.Agop(samplePatches ?? trainPatches, trainPatches, metric, mb, alpha, cancellationToken);
                if (!g.All(double.IsFinite))
                {
                    throw new ArithmeticException($"ConvRFM round {t}: the patch AGOP is not finite.");
                }

                next = MetricUpdate.Next(be, g, d, false, Options.AgopPower, Options.Normalization, t);
                agopSeconds = clock.Elapsed.TotalSeconds;
            }

            var record = new RfmIteration(t, iterations, train0.Mse, train0.Accuracy, val.Mse, val.Accuracy, report.Jitter, kernelSeconds, solveSeconds, agopSeconds);
            history.Add(record);
            Log.ConvRfmIteration(logger, t, iterations - 1, train0.Mse, val.Mse, val.Accuracy, record.Seconds);
            Options.OnRound?.Invoke(record);
            progress?.Report(record);
            metric = next;
        }

        var chosen = selection.State;
        return new ConvRfmModel<T>(layout, Options.Pairing, Options.Kernel, Options.MaxBlockElements, x, train, chosen.Alpha, c, chosen.Metric, history, selection.Iteration, be);
    }
}
