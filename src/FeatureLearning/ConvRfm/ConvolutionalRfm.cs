using System.Diagnostics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

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
/// the GEMM-only AGOP engine (see <see cref="ConvKernel"/>). The base kernel may be radial (Laplace, Gaussian,
/// generalized Laplace) or a dot product (<see cref="PolynomialKernel"/>). <see cref="DeepConvRfm"/> stacks layers.
/// </remarks>
/// <example>
/// <code>
/// var digits = LocalSignal.Digits(LabeledDataSet.LoadCsv("digits.csv.gz"));
/// var model = new ConvolutionalRfm(new ConvRfmOptions { PatchSize = 3, Iterations = 3 })
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
    /// <param name="x">Training images.</param>
    /// <param name="y">Targets, n × c (one-hot for classification).</param>
    /// <param name="validation">Optional validation images and targets: their errors are recorded per round (the last round is returned).</param>
    /// <param name="progress">One report per round.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The fitted model of the last round.</returns>
    /// <exception cref="ArgumentException">Mismatched shapes, non-finite targets, or patches that do not fit the images.</exception>
    /// <exception cref="InsufficientMemoryException">The estimated memory of the fit exceeds <see cref="ConvRfmOptions.MemoryBudgetBytes"/> (thrown before anything large is allocated).</exception>
    public ConvRfmModel Fit(ImageBatch x, Matrix<double> y, (ImageBatch X, Matrix<double> Y)? validation = null, IProgress<RfmIteration>? progress = null, CancellationToken cancellationToken = default)
    {
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
        var layout = PatchLayout.For(Options, x);
        ConvRfmMemory.Check(ConvRfmMemory.FitBytes(layout, Options, x.Count, y.ColumnCount, validation?.X.Count ?? 0), Options, $"ConvRFM on {x.Count} images of {layout.OutputHeight} x {layout.OutputWidth} = {layout.OutputHeight * layout.OutputWidth} patch positions");
        var train = layout.Set(x);
        int n = x.Count, c = y.ColumnCount, d = layout.Dimension;
        var validationPatches = validation is { } v ? layout.Set(v.X) : null;
        var validationTargets = validation?.Y.ToRowMajorArray();
        var agopSample = Options.AgopSampleSize is { } size && size < n ? train.Subset(SeededSample.Indices(n, size, Options.Seed)) : train;
        var convKernel = new ConvKernel(be, Options.Kernel, Options.Pairing, Options.MaxBlockElements);
        var yHost = y.ToRowMajorArray();
        var metric = Metric.Identity;
        var history = new List<RfmIteration>();
        var alphaHost = new double[n * c];
        double jitter = 0;
        using (var k = be.Allocate<double>(n, n))
        using (var alpha = be.Allocate<double>(n, c))
        {
            for (int t = 0; t < Options.Iterations; t++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var mb = metric.Upload<double>(be);
                var clock = Stopwatch.StartNew();
                convKernel.Matrix(train, train, mb, k);
                double kernelSeconds = clock.Elapsed.TotalSeconds;
                cancellationToken.ThrowIfCancellationRequested();

                clock.Restart();
                if (Options.Ridge > 0)
                {
                    be.AddDiagonal(k, Options.Ridge);
                }

                jitter = be.CholeskyFactor(k, Options.Cholesky, cancellationToken).Jitter;
                be.Upload<double>(yHost, alpha);
                be.CholeskySolve(k, alpha);
                be.Download(alpha, alphaHost);
                if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<double>(alphaHost))
                {
                    throw new ArithmeticException($"ConvRFM round {t}: the kernel solve produced non-finite coefficients. Increase the ridge.");
                }

                double solveSeconds = clock.Elapsed.TotalSeconds;

                var train0 = FitErrors.Compute<double>(yHost.Select((value, i) => value - ((Options.Ridge + jitter) * alphaHost[i])).ToArray(), yHost, n, c);
                (double Mse, double Accuracy) val = (double.NaN, double.NaN);
                if (validationPatches is not null)
                {
                    clock.Restart();
                    val = FitErrors.Compute<double>(convKernel.Predict(validationPatches, train, mb, alpha), validationTargets, validationPatches.Count, c);
                    kernelSeconds += clock.Elapsed.TotalSeconds;
                }

                double agopSeconds = 0;
                var next = metric;
                if (t < Options.Iterations - 1)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    clock.Restart();
                    var g = convKernel.Agop(agopSample, train, metric, mb, alpha, cancellationToken);
                    if (!g.All(double.IsFinite))
                    {
                        throw new ArithmeticException($"ConvRFM round {t}: the patch AGOP is not finite.");
                    }

                    next = MetricUpdate.Next(be, g, d, false, Options.AgopPower, Options.Normalization, t);
                    agopSeconds = clock.Elapsed.TotalSeconds;
                }

                var record = new RfmIteration(t, Options.Iterations, train0.Mse, train0.Accuracy, val.Mse, val.Accuracy, jitter, kernelSeconds, solveSeconds, agopSeconds);
                history.Add(record);
                progress?.Report(record);
                metric = next;
            }
        }

        return new ConvRfmModel(layout, Options.Pairing, Options.Kernel, Options.MaxBlockElements, x, train, alphaHost, c, metric, history, be);
    }
}
