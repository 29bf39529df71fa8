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
        if (kernel.Geometry == KernelGeometry.InnerProductAndNorms)
        {
            return NormDependent(kernel).Value(metric.InnerProduct(x, z), metric.InnerProduct(x, x), metric.InnerProduct(z, z));
        }

        return kernel.Value(Statistic(kernel, x, z, metric));
    }

    /// <summary>
    /// ∇ₓk_M(x, z): 2 φ'(s)·M(x − z) for radial kernels (0 at x = z for kernels not differentiable there),
    /// ψ'(u)·Mz for dot-product kernels, ∂κ/∂u·Mz + 2∂κ/∂a·Mx for <see cref="KernelGeometry.InnerProductAndNorms"/> kernels.
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
        if (kernel.Geometry == KernelGeometry.InnerProductAndNorms)
        {
            var (du, da) = NormDependent(kernel).Derivatives(metric.InnerProduct(x, z), metric.InnerProduct(x, x), metric.InnerProduct(z, z));
            var mzn = metric.Apply(z);
            var mx = metric.Apply(x);
            for (int i = 0; i < mzn.Length; i++)
            {
                mzn[i] = (du * mzn[i]) + (2 * da * mx[i]);
            }

            return mzn;
        }

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

    /// <summary>
    /// The number of columns of the derivative weights <see cref="Compute.IComputeBackend.KernelMatrix{T, TKernel}"/> writes for
    /// <paramref name="centres"/> centres: <paramref name="centres"/>, or twice that for a kernel of the
    /// <see cref="KernelGeometry.InnerProductAndNorms"/> geometry ([∂κ/∂u | ∂κ/∂a] side by side).
    /// </summary>
    /// <param name="kernel">The kernel.</param>
    /// <param name="centres">The number of rows of Z (columns of the kernel matrix).</param>
    /// <returns>The width of the derivative-weight buffer to allocate.</returns>
    public static int DerivativeWeightColumns(this IKernelFunction kernel, int centres)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentOutOfRangeException.ThrowIfNegative(centres);
        return kernel.Geometry == KernelGeometry.InnerProductAndNorms ? checked(2 * centres) : centres;
    }

    /// <summary>The kernel as an <see cref="INormDependentKernel"/>, which its geometry promises.</summary>
    /// <typeparam name="TKernel">The kernel type.</typeparam>
    /// <param name="kernel">A kernel of <see cref="KernelGeometry.InnerProductAndNorms"/> geometry.</param>
    /// <param name="name">The argument name for the exception.</param>
    /// <returns>The kernel, cast (boxed once for a struct).</returns>
    /// <exception cref="ArgumentException">The kernel does not implement <see cref="INormDependentKernel"/>.</exception>
    internal static INormDependentKernel NormDependent<TKernel>(TKernel kernel, string name = "kernel")
        where TKernel : IKernelFunction
        => kernel as INormDependentKernel
           ?? throw new ArgumentException($"The kernel {kernel.Name} declares the geometry {KernelGeometry.InnerProductAndNorms} but does not implement {nameof(INormDependentKernel)}.", name);

    private static double Statistic<TKernel>(TKernel kernel, ReadOnlySpan<double> x, ReadOnlySpan<double> z, Metric metric)
        where TKernel : IKernelFunction
        => kernel.Geometry == KernelGeometry.Radial ? metric.SquaredDistance(x, z) : metric.InnerProduct(x, z);
}
