namespace FeatureLearning.Rfm;

/// <summary>Which of the two exact AGOP formulas to evaluate (both are GEMM-only; they differ in cost).</summary>
public enum AgopForm
{
    /// <summary>Pick the cheaper form for the problem shape from the flop counts of both.</summary>
    Auto = 0,

    /// <summary>
    /// Per output k, the gradients G_k = diag(S_k)X_s − W'(α_k ∘ X_c) (m × d) and H += G_kᵀG_k: about
    /// c·(2mnd + md²) flops, best when c·d is small compared with n.
    /// </summary>
    Direct = 1,

    /// <summary>
    /// The Gram form X_sᵀdiag(q)X_s − X_sᵀCX_c − X_cᵀCᵀX_s + X_cᵀ[(W'ᵀW') ∘ (ααᵀ)]X_c: about mn² + 2n²d flops,
    /// independent of c·d, best for many outputs (grokking: c·d = 7,442 &gt; n = 1,860).
    /// </summary>
    Gram = 2,
}
