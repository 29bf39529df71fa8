namespace FeatureLearning.Networks;

/// <summary>The order of a <see cref="NetworkTaylorModel{T}"/>: its expansion of the network in the parameters around w₀.</summary>
public enum TaylorOrder
{
    /// <summary>The linearised network f_lin(w) = f(w₀) + J(w₀)(w − w₀): a kernel model with the empirical NTK at w₀.</summary>
    Linear = 1,

    /// <summary>The quadratic model f_quad(w) = f_lin(w) + ½(w − w₀)ᵀ∇²f(w₀)(w − w₀), per sample and output.</summary>
    Quadratic = 2,
}
