using System.Diagnostics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// The convolutional RFM (Radhakrishnan, Beaglehole, Belkin, Pandit, "Mechanism of feature learning in convolutional
/// neural networks"): a kernel machine with the aligned-patch kernel K_M(x, z) = (1/P) Σ_p k_M(x_p, z_p) over the P
/// q × q patch positions, whose C·q² × C·q² patch metric M is updated from the patch AGOP
/// G = (1/n) Σ_i Σ_p Σ_k ∇_{x_{i,p}} f_k(x_i) ∇_{x_{i,p}} f_k(x_i)ᵀ, every patch copy its own variable.
/// </summary>
/// <remarks>
/// ∇_{x_{i,p}} f_k(x_i) = (1/P) Σ_j α_jk ∇k_M(x_{i,p}, x_{j,p}) is the gradient of the kernel machine on patch position p
/// with coefficients α/P, so the patch AGOP is the sum over p of that machine's AGOP, each from the GEMM-only AGOP
/// engine. Per round: P kernel matrices of the patch matrices (n × C·q², im2col), one n × n solve, and P AGOPs.
/// This is the shallow (one-layer) method with the aligned-patch kernel; the all-pairs kernel and the deep, layer-wise
/// variant are not implemented.
/// </remarks>
public sealed class ConvolutionalRfm
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">Options; validated here.</param>
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
    public ConvRfmModel Fit(ImageBatch x, Matrix<double> y, (ImageBatch X, Matrix<double> Y)? validation = null, IProgress<RfmIteration>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        Validation.NonEmptyFinite(y, nameof(y));
        if (y.RowCount != x.Count)
        {
            throw new ArgumentException($"{y.RowCount} target rows for {x.Count} images.", nameof(y));
        }

        var be = Options.Backend ?? ComputeBackends.Default;
        var layout = PatchLayout.For(Options, x);
        var patches = layout.Extract(x);
        int n = x.Count, c = y.ColumnCount, d = layout.Dimension, positions = patches.Length;
        var buffers = patches.Select(p => be.Upload<double>(p, n, d)).ToArray();
        var validationPatches = validation is { } v ? layout.Extract(v.X).Select(p => be.Upload<double>(p, v.X.Count, d)).ToArray() : null;
        var yHost = y.ToRowMajorArray();
        var metric = Metric.Identity;
        var history = new List<RfmIteration>();
        var alphaHost = new double[n * c];
        double jitter = 0;
        try
        {
            using var k = be.Allocate<double>(n, n);
            using var kp = be.Allocate<double>(n, n);
            using var alpha = be.Allocate<double>(n, c);
            for (int t = 0; t < Options.Iterations; t++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var mb = metric.Upload<double>(be);
                var clock = Stopwatch.StartNew();
                AverageKernel(be, buffers, buffers, mb, k, kp);
                double kernelSeconds = clock.Elapsed.TotalSeconds;

                clock.Restart();
                if (Options.Ridge > 0)
                {
                    be.AddDiagonal(k, Options.Ridge);
                }

                jitter = be.CholeskyFactor(k, Options.Cholesky, cancellationToken).Jitter;
                be.Upload<double>(yHost, alpha);
                be.CholeskySolve(k, alpha);
                be.Download(alpha, alphaHost);
                double solveSeconds = clock.Elapsed.TotalSeconds;

                var train = FitErrors.Compute<double>(yHost.Select((v, i) => v - ((Options.Ridge + jitter) * alphaHost[i])).ToArray(), yHost, n, c);
                (double Mse, double Accuracy) val = (double.NaN, double.NaN);
                if (validation is { } vv)
                {
                    clock.Restart();
                    val = FitErrors.Compute<double>(PredictWith(be, validationPatches!, buffers, mb, alpha, vv.X.Count, c), vv.Y.ToRowMajorArray(), vv.X.Count, c);
                    kernelSeconds += clock.Elapsed.TotalSeconds;
                }

                double agopSeconds = 0;
                var next = metric;
                if (t < Options.Iterations - 1)
                {
                    clock.Restart();
                    var g = PatchAgop(be, Options.Kernel, metric, mb, buffers, alpha, cancellationToken);
                    next = MetricUpdate.Next(be, g, d, false, Options.AgopPower, Options.Normalization, t);
                    agopSeconds = clock.Elapsed.TotalSeconds;
                }

                var record = new RfmIteration(t, Options.Iterations, train.Mse, train.Accuracy, val.Mse, val.Accuracy, jitter, kernelSeconds, solveSeconds, agopSeconds);
                history.Add(record);
                progress?.Report(record);
                if (t < Options.Iterations - 1)
                {
                    metric = next;
                }
            }
        }
        finally
        {
            foreach (var b in buffers.Concat(validationPatches ?? []))
            {
                b.Dispose();
            }
        }

        return new ConvRfmModel(layout, patches, n, alphaHost, c, metric, Options.Kernel, history, be);
    }

    /// <summary>
    /// The patch AGOP (1/n) Σ_i Σ_p Σ_k ∇_{x_{i,p}} f_k ∇_{x_{i,p}} f_kᵀ of the aligned-patch predictor with coefficients α:
    /// for each position p, the AGOP engine on the machine with centres X_p and coefficients α/P, summed over p.
    /// </summary>
    internal static double[] PatchAgop(
        IComputeBackend be, IKernelFunction kernel, Metric metric, DeviceBuffer<double>? metricBuffer, DeviceBuffer<double>[] patches, DeviceBuffer<double> alpha, CancellationToken cancellationToken)
    {
        int n = patches[0].Rows, d = patches[0].Cols;
        using var scaled = be.Allocate<double>(n, alpha.Cols);
        using var k = be.Allocate<double>(n, n);
        using var w = be.Allocate<double>(n, n);
        be.Copy(alpha, scaled);
        be.Scale(1.0 / patches.Length, scaled);
        var g = new double[d * d];
        foreach (var xp in patches)
        {
            be.KernelMatrix(kernel, xp, xp, metricBuffer, k, w);
            var gp = AgopEngine.Compute(be, kernel, metric, metricBuffer, xp, xp, scaled, w, false, AgopForm.Auto, cancellationToken);
            for (int i = 0; i < g.Length; i++)
            {
                g[i] += gp[i];
            }
        }

        return g;
    }

    /// <summary>K = (1/P) Σ_p k_M(A_p, B_p).</summary>
    private void AverageKernel(IComputeBackend be, DeviceBuffer<double>[] a, DeviceBuffer<double>[] b, DeviceBuffer<double>? metric, DeviceBuffer<double> k, DeviceBuffer<double> scratch)
        => ConvKernel.Average(be, Options.Kernel, a, b, metric, k, scratch);

    private double[] PredictWith(IComputeBackend be, DeviceBuffer<double>[] a, DeviceBuffer<double>[] b, DeviceBuffer<double>? metric, DeviceBuffer<double> alpha, int m, int c)
        => ConvKernel.Predict(be, Options.Kernel, a, b, metric, alpha, m, c);
}
