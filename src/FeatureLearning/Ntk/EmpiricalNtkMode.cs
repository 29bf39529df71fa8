namespace FeatureLearning.Ntk;

/// <summary>Which empirical NTK <see cref="EmpiricalNtk"/> computes for a network with c outputs.</summary>
public enum EmpiricalNtkMode
{
    /// <summary>Every output pair: the c × c blocks Θ_kk′(X, Z), the full n·c × m·c kernel (block (k, k′) is Θ_kk′).</summary>
    PerOutput,

    /// <summary>The trace over the outputs, Σ_k Θ_kk(X, Z), n × m.</summary>
    Traced,
}
