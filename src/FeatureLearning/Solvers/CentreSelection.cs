namespace FeatureLearning.Solvers;

/// <summary>How the Nyström solver draws its m centres from the training points (always seeded, without replacement).</summary>
public enum CentreSelection
{
    /// <summary>A uniform sample: the setting Falkon's preconditioner is derived for.</summary>
    Uniform,

    /// <summary>
    /// A sample with probabilities proportional to approximate ridge leverage scores
    /// ℓ_i = (1/λ)(k_ii − k_iSᵀ(K_SS + λ(s/n)I)⁻¹k_iS), estimated from a uniform pilot set S of s = min(n, m, 1,024) points:
    /// more centres where the data are sparse. The preconditioner stays the uniform one (Falkon's diagonal reweighting for
    /// non-uniform sampling is not applied), so CG may take more iterations; the solution is the same system's.
    /// </summary>
    ApproximateLeverage,
}
