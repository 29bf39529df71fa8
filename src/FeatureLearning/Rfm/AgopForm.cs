namespace FeatureLearning.Rfm;

/// <summary>Which of the exact AGOP formulas to evaluate (all are GEMM-based and give the same matrix; they differ in cost).</summary>
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

    /// <summary>
    /// The direct form for sparse centres X_c (for instance one-hot inputs): for every input column l with non-zero rows
    /// I_l, the derivative weights W'[:, I_l] are gathered (<see cref="Compute.IComputeBackend.GatherColumns{T}"/>) and one GEMM
    /// gives that column of every output's gradient, t_jk[l] = Σ_{i∈I_l} W'_ji α_ik (X_c)_il; H is then one SYRK of all the
    /// gradients as a d × (m·c) matrix. About 2mnc + 2mc·nnz(X_c) + mcd² flops, built in chunks of sample rows so that the
    /// gradients held at once stay bounded. <see cref="Auto"/> takes it when X_c has at most a quarter of its entries
    /// non-zero and it is the cheapest of the three counts (grokking: two non-zeros in 122 columns per row), on a CPU backend
    /// only: there, with AVX-512, a register-blocked kernel builds the gradients of twelve sample rows at a time and adds their
    /// outer products while they are cached (without AVX-512, with few outputs, or when a thread's gradient block or private
    /// d × d sum would exceed 2²² elements, one gather and one GEMM per input column);
    /// on a GPU the per-column launches cost more than the flops saved (grokking on an H200: 0.69 s of AGOP in 30 rounds,
    /// about 1,000 launches and library calls per round).
    /// </summary>
    SparseDirect = 3,
}
