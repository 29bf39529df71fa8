namespace FeatureLearning.Kernels;

/// <summary>Per-pair evaluation of kernels: k_M(x, z) and ∇ₓk_M(x, z). For checks and small problems; the backends evaluate whole matrices.</summary>
public static class KernelFunctionExtensions
{
    /// <summary>k_M(x, z) for one pair.</summary>
    /// <typeparam name="TKernel">The kernel type.</typeparam>
    /// <param name="kernel">The kernel.</param>
    /// <param name="x">x.</param>
    /// <param name="z">z.</param>
    /// <param name="metric">M (<see cref="Metric.Identity"/> for the Euclidean kernel).</param>
    /// <returns>The kernel value.</returns>
    public static double Evaluate<TKernel>(this TKernel kernel, ReadOnlySpan<double> x, ReadOnlySpan<double> z, Metric metric)
        where TKernel : IKernelFunction
    {
        ArgumentNullException.ThrowIfNull(metric);
        return kernel.Value(Statistic(kernel, x, z, metric));
    }

    /// <summary>
    /// ∇ₓk_M(x, z): 2 φ'(s)·M(x − z) for radial kernels (0 at x = z for kernels not differentiable there),
    /// ψ'(u)·Mz for dot-product kernels.
    /// </summary>
    /// <typeparam name="TKernel">The kernel type.</typeparam>
    /// <param name="kernel">The kernel.</param>
    /// <param name="x">x.</param>
    /// <param name="z">z.</param>
    /// <param name="metric">M.</param>
    /// <returns>A new array holding the gradient with respect to x.</returns>
    public static double[] Gradient<TKernel>(this TKernel kernel, ReadOnlySpan<double> x, ReadOnlySpan<double> z, Metric metric)
        where TKernel : IKernelFunction
    {
        ArgumentNullException.ThrowIfNull(metric);
        double u = Statistic(kernel, x, z, metric);
        double w = kernel.Derivative(u);
        if (kernel.Geometry == KernelGeometry.DotProduct)
        {
            var mz = metric.Apply(z);
            for (int i = 0; i < mz.Length; i++)
            {
                mz[i] *= w;
            }

            return mz;
        }

        var diff = new double[x.Length];
        for (int i = 0; i < diff.Length; i++)
        {
            diff[i] = x[i] - z[i];
        }

        var g = metric.Apply(diff);
        for (int i = 0; i < g.Length; i++)
        {
            g[i] *= 2 * w;
        }

        return g;
    }

    private static double Statistic<TKernel>(TKernel kernel, ReadOnlySpan<double> x, ReadOnlySpan<double> z, Metric metric)
        where TKernel : IKernelFunction
        => kernel.Geometry == KernelGeometry.Radial ? metric.SquaredDistance(x, z) : metric.InnerProduct(x, z);
}
