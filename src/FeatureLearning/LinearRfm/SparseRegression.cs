using System.Diagnostics;
using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.LinearRfm;

/// <summary>
/// Diagonal lin-RFM for sparse linear regression y = Xw with fewer samples than features (Radhakrishnan, Belkin,
/// Drusvyatskiy, "Linear Recursive Feature Machines provably recover low-rank matrices"): iterate
/// M = diag(|w|^{2α}) and w = M²Xᵀ(XM²Xᵀ + λI)⁻¹y, the minimum-norm interpolant in the metric M⁻², starting from the
/// minimum-norm solution (M = I).
/// </summary>
/// <remarks>
/// The AGOP of x ↦ wᵀx is wwᵀ; its diagonal raised to α gives M. Substituting u = M⁻¹w shows that each step minimises
/// Σ_j w_j² / |w_j|^{4α} subject to Xw = y: the iteratively reweighted least squares (IRLS) update for the ℓ_p
/// quasi-norm Σ|w_j|^p with p = 2 − 4α (α = ½: p = 0, the sparsity-seeking limit; α = ¼: p = 1, the lasso-like IRLS-1).
/// Each iteration is one n × n linear-kernel solve: cost O(n²d + n³).
/// </remarks>
public sealed class SparseRegression
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">Options; validated here.</param>
    public SparseRegression(SparseRegressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public SparseRegressionOptions Options { get; }

    /// <summary>Fits w.</summary>
    /// <param name="x">Design matrix X, n × d.</param>
    /// <param name="y">Targets, length n.</param>
    /// <param name="truth">Optional true w: its relative squared error ‖w − w*‖² / ‖w*‖² is recorded per iteration as <see cref="LinearRfmIteration.TestMse"/>.</param>
    /// <param name="progress">One report per iteration.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <returns>The weights and the history.</returns>
    /// <exception cref="ArgumentException">Empty or non-finite data, or mismatched lengths.</exception>
    public SparseRegressionModel Fit(
        Matrix<double> x, MathNet.Numerics.LinearAlgebra.Vector<double> y, MathNet.Numerics.LinearAlgebra.Vector<double>? truth = null, IProgress<LinearRfmIteration>? progress = null, CancellationToken cancellationToken = default)
    {
        if (truth is not null && truth.Count != x.ColumnCount)
        {
            throw new ArgumentException($"The true w has {truth.Count} entries but x has {x.ColumnCount} columns.", nameof(truth));
        }

        ArgumentNullException.ThrowIfNull(y);
        var yMatrix = y.ToColumnMatrix();
        Validation.TrainingData(x, yMatrix, Kernels.Metric.Identity);
        var be = Options.Backend ?? ComputeBackends.Default;
        int n = x.RowCount, d = x.ColumnCount;
        var xHost = x.ToRowMajorArray();
        var yHost = y.ToArray();
        var w = new double[d];
        var scale = Enumerable.Repeat(1.0, d).ToArray(); // M² = diag(scale)
        var history = new List<LinearRfmIteration>();
        using var xb = be.Upload<double>(xHost, n, d);
        using var xs = be.Allocate<double>(n, d);
        using var k = be.Allocate<double>(n, n);
        using var s = be.Allocate<double>(1, d);
        using var c = be.Allocate<double>(n, 1);
        using var wb = be.Allocate<double>(d, 1);
        for (int t = 0; t < Options.Iterations; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();

            // K = X M² Xᵀ + λI, c = K⁻¹y, w = M² Xᵀ c.
            be.Upload<double>(scale, s);
            be.Copy(xb, xs);
            be.ScaleColumns(xs, s);
            be.Gemm(Transpose.None, Transpose.Transpose, 1.0, xs, xb, 0.0, k);
            be.AddDiagonal(k, Options.Ridge);
            be.CholeskyFactor(k, CholeskyOptions.Default, cancellationToken);
            be.Upload<double>(yHost, c);
            be.CholeskySolve(k, c);
            be.Gemm(Transpose.Transpose, Transpose.None, 1.0, xs, c, 0.0, wb);
            var previous = (double[])w.Clone();
            be.Download(wb, w);
            if (w.Any(v => !double.IsFinite(v)))
            {
                throw new ArithmeticException($"lin-RFM iteration {t}: the weights became non-finite. Increase the ridge.");
            }

            double change = 0, norm = 0;
            for (int j = 0; j < d; j++)
            {
                change += (w[j] - previous[j]) * (w[j] - previous[j]);
                norm += w[j] * w[j];
                scale[j] = Math.Pow(w[j] * w[j], 2 * Options.Alpha); // M² = diag(|w|^{4α})
            }

            var residual = x * MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(w) - y;
            double testError = truth is null ? double.NaN : (MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(w) - truth).DotProduct(MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(w) - truth) / truth.DotProduct(truth);
            var record = new LinearRfmIteration(t, residual.DotProduct(residual) / n, double.NaN, testError, Options.Ridge, clock.Elapsed.TotalSeconds);
            history.Add(record);
            progress?.Report(record);
            if (norm > 0 && Math.Sqrt(change / norm) < Options.Tolerance)
            {
                break;
            }
        }

        return new SparseRegressionModel(w, history);
    }
}

/// <summary>A fitted sparse linear model.</summary>
public sealed class SparseRegressionModel
{
    private readonly double[] weights;

    internal SparseRegressionModel(double[] weights, IReadOnlyList<LinearRfmIteration> history)
    {
        this.weights = weights;
        History = history.ToArray();
    }

    /// <summary>The weights w (a copy).</summary>
    public MathNet.Numerics.LinearAlgebra.Vector<double> Weights => MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(weights);

    /// <summary>One record per iteration.</summary>
    public IReadOnlyList<LinearRfmIteration> History { get; }

    /// <summary>Predicts Xw.</summary>
    /// <param name="x">Inputs, m × d.</param>
    /// <returns>Predictions.</returns>
    public MathNet.Numerics.LinearAlgebra.Vector<double> Predict(Matrix<double> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.ColumnCount != weights.Length)
        {
            throw new ArgumentException($"The model has {weights.Length} weights but x has {x.ColumnCount} columns.", nameof(x));
        }

        return x * Weights;
    }
}
