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
}
