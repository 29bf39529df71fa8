namespace FeatureLearning.Kernels;

/// <summary>Which statistic of the pair (x, z) a kernel is a function of.</summary>
public enum KernelGeometry
{
    /// <summary>
    /// Radial kernel k = φ(s) of the squared Mahalanobis distance s = ‖x − z‖²_M = (x − z)ᵀM(x − z);
    /// its gradient is ∇ₓk = 2 φ'(s) · M(x − z).
    /// </summary>
    Radial = 0,

    /// <summary>
    /// Dot-product kernel k = ψ(u) of the Mahalanobis inner product u = xᵀMz; its gradient is
    /// ∇ₓk = ψ'(u) · Mz.
    /// </summary>
    DotProduct = 1,

    /// <summary>
    /// A kernel k = κ(u, a, b) of the Mahalanobis inner product u = xᵀMz and the squared norms a = xᵀMx, b = zᵀMz (the
    /// NNGP and NTK of a network with biases, or any dot-product kernel of normalised inputs); its gradient is
    /// ∇ₓk = ∂κ/∂u · Mz + 2 ∂κ/∂a · Mx. Such a kernel implements <see cref="INormDependentKernel"/>.
    /// </summary>
    InnerProductAndNorms = 2,
}
