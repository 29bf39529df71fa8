using System.Diagnostics;
using System.Numerics;
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
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the backend's work (the n × n system, its solve, the products); the convergence test and the recorded errors are computed in double from those results.</typeparam>
    /// <param name="x">Design matrix X, n × d.</param>
    /// <param name="y">Targets, length n.</param>
    /// <param name="truth">Optional true w: its relative squared error ‖w − w*‖² / ‖w*‖² is recorded per iteration as <see cref="LinearRfmIteration.RelativeWeightError"/>.</param>
    /// <param name="progress">One report per iteration.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <returns>The weights and the history.</returns>
    /// <exception cref="ArgumentException">Empty or non-finite data, or mismatched lengths.</exception>
    public SparseRegressionModel<T> Fit<T>(
        Matrix<T> x, MathNet.Numerics.LinearAlgebra.Vector<T> y, MathNet.Numerics.LinearAlgebra.Vector<T>? truth = null, IProgress<LinearRfmIteration>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        if (truth is not null && x is not null && truth.Count != x.ColumnCount)
        {
            throw new ArgumentException($"The true w has {truth.Count} entries but x has {x.ColumnCount} columns.", nameof(truth));
        }

        ArgumentNullException.ThrowIfNull(y);
        Validation.TrainingData(x!, y.ToColumnMatrix(), Kernels.Metric.Identity);
        var be = Options.Backend ?? ComputeBackends.Default;
        int n = x!.RowCount, d = x.ColumnCount;
        var xHost = x.ToRowMajorArray();
        var yHost = y.ToArray();
        var yDouble = yHost.Select(double.CreateTruncating).ToArray();
        var truthHost = truth?.Select(double.CreateTruncating).ToArray();
        double truthNorm = truthHost is null ? double.NaN : truthHost.Sum(v => v * v);
        var w = new T[d];
        var wDouble = new double[d];
        var scale = Enumerable.Repeat(T.One, d).ToArray(); // M² = diag(scale)
        var fitted = new T[n];
        var history = new List<LinearRfmIteration>();
        using var xb = be.Upload<T>(xHost, n, d);
        using var xs = be.Allocate<T>(n, d);
        using var k = be.Allocate<T>(n, n);
        using var s = be.Allocate<T>(1, d);
        using var c = be.Allocate<T>(n, 1);
        using var wb = be.Allocate<T>(d, 1);
        using var f = be.Allocate<T>(n, 1);
        for (int t = 0; t < Options.MaxIterations; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();

            // K = X M² Xᵀ + λI, c = K⁻¹y, w = M² Xᵀ c.
            be.Upload<T>(scale, s);
            be.Copy(xb, xs);
            be.ScaleColumns(xs, s);
            be.Gemm(Transpose.None, Transpose.Transpose, T.One, xs, xb, T.Zero, k);
            be.AddDiagonal(k, T.CreateTruncating(Options.Ridge));
            be.CholeskyFactor(k, CholeskyOptions.Default, cancellationToken);
            be.Upload<T>(yHost, c);
            be.CholeskySolve(k, c);
            be.Gemm(Transpose.Transpose, Transpose.None, T.One, xs, c, T.Zero, wb);
            be.Download(wb, w);
            be.Gemm(Transpose.None, Transpose.None, T.One, xb, wb, T.Zero, f);
            be.Download(f, fitted);
            double change = 0, norm = 0, error = 0, residual = 0;
            for (int j = 0; j < d; j++)
            {
                double wj = double.CreateTruncating(w[j]);
                if (!double.IsFinite(wj))
                {
                    throw new ArithmeticException($"lin-RFM iteration {t}: the weights became non-finite. Increase the ridge.");
                }

                change += (wj - wDouble[j]) * (wj - wDouble[j]);
                norm += wj * wj;
                wDouble[j] = wj;
                scale[j] = T.CreateTruncating(Math.Pow(wj * wj, 2 * Options.Alpha)); // M² = diag(|w|^{4α})
                if (truthHost is not null)
                {
                    error += (wj - truthHost[j]) * (wj - truthHost[j]);
                }
            }

            for (int i = 0; i < n; i++)
            {
                double r = double.CreateTruncating(fitted[i]) - yDouble[i];
                residual += r * r;
            }

            var record = new LinearRfmIteration(t, residual / n, double.NaN, double.NaN, truthHost is null ? double.NaN : error / truthNorm, Options.Ridge, clock.Elapsed.TotalSeconds);
            history.Add(record);
            progress?.Report(record);
            if (norm > 0 && Math.Sqrt(change / norm) < Options.Tolerance)
            {
                break;
            }
        }

        return new SparseRegressionModel<T>(w, history, be);
    }
}
