using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
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
    /// <param name="form">Which exact formula to evaluate (<see cref="AgopForm.Auto"/> picks the cheaper).</param>
    /// <param name="backend">Backend; null for <see cref="ComputeBackends.Default"/>.</param>
    /// <returns>The d × d AGOP.</returns>
    public static Matrix<double> Compute<T>(KernelRidgeModel<T> model, Matrix<T>? points = null, bool centre = false, AgopForm form = AgopForm.Auto, IComputeBackend? backend = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
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

        using var xc = be.Upload<T>(centres, n, d);
        using var xs = points is null ? null : be.Upload<T>(sample, m, d);
        using var alpha = be.Upload<T>(model.Coefficients.ToRowMajorArray(), n, model.OutputDimension);
        using var metric = model.Metric.Upload<T>(be);
        using var k = be.Allocate<T>(m, n);
        using var w = be.Allocate<T>(m, n);
        be.KernelMatrix(model.Kernel, xs ?? xc, xc, metric, k, w);
        var g = AgopEngine.Compute(be, model.Kernel, model.Metric, metric, xs ?? xc, xc, alpha, w, centre, form, CancellationToken.None);
        return Matrix<double>.Build.DenseOfRowMajor(d, d, g);
    }
}
