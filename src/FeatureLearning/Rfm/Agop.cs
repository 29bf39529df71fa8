using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Rfm;

/// <summary>The Average Gradient Outer Product of a fitted kernel predictor.</summary>
public static class Agop
{
    /// <summary>
    /// G = (1/m) Σ_{j} Σ_k ∇f_k(x_j)∇f_k(x_j)ᵀ for the model's predictor f at the points x_j (the rows of
    /// <paramref name="points"/>, by default the model's training inputs).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="model">A fitted kernel machine.</param>
    /// <param name="points">Where to evaluate the gradients (m × d); null for the training inputs.</param>
    /// <param name="centre">Whether to subtract each output's mean gradient first.</param>
    /// <param name="form">Which exact formula to evaluate (<see cref="AgopForm.Auto"/> picks the cheapest, the sparse direct form
    /// included when at most a quarter of the training inputs' entries are non-zero).</param>
    /// <param name="backend">Backend; null for <see cref="ComputeBackends.Default"/>.</param>
    /// <param name="blockSize">Form the m × n kernel derivatives at most this many points at a time (bounding memory, as
    /// <see cref="RfmOptions.BlockSize"/>); null for all at once.</param>
    /// <returns>The d × d AGOP.</returns>
    /// <exception cref="ArgumentException">The points have the wrong number of columns or are not finite, or the block size is below 1.</exception>
    public static Matrix<double> Compute<T>(
        KernelRidgeModel<T> model, Matrix<T>? points = null, bool centre = false, AgopForm form = AgopForm.Auto, IComputeBackend? backend = null, int? blockSize = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        if (blockSize is { } rows)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1, nameof(blockSize));
        }

        var be = backend ?? ComputeBackends.Default;
        int n = model.TrainingCount, d = model.InputDimension;
        var centres = model.TrainingInputs.ToRowMajorArray();
        T[] sample = centres;
        int m = n;
        if (points is not null)
        {
            Validation.NonEmptyFinite(points, nameof(points));
            if (points.ColumnCount != d)
            {
                throw new ArgumentException($"The model has {d} inputs but the points have {points.ColumnCount} columns.", nameof(points));
            }

            sample = points.ToRowMajorArray();
            m = points.RowCount;
        }

        var sparsity = SparseColumns.ForAgop<T>(form, be, centres, n, d);
        using var xc = be.Upload<T>(centres, n, d);
        using var alphaBuffer = be.Upload<T>(model.Coefficients.ToRowMajorArray(), n, model.OutputDimension);
        using var metricBuffer = model.Metric.Upload<T>(be);
        if (blockSize is { } block && block < m)
        {
            var blocked = AgopEngine.ComputeBlocked(be, model.Kernel, model.Metric, metricBuffer, sample, m, xc, alphaBuffer, centre, form, block, CancellationToken.None, sparsity);
            return Matrix<double>.Build.DenseOfRowMajor(d, d, blocked);
        }

        using var xs = points is null ? null : be.Upload<T>(sample, m, d);
        using var k = be.Allocate<T>(m, n);
        using var w = be.Allocate<T>(m, model.Kernel.DerivativeWeightColumns(n));
        be.KernelMatrix(model.Kernel, xs ?? xc, xc, metricBuffer, k, w);
        var g = AgopEngine.Compute(be, model.Kernel, model.Metric, metricBuffer, xs ?? xc, xc, alphaBuffer, w, centre, form, CancellationToken.None, sparsity);
        return Matrix<double>.Build.DenseOfRowMajor(d, d, g);
    }
}
