namespace FeatureLearning.Networks;

/// <summary>The training losses of a <see cref="FullyConnectedNetwork{T}"/>, averaged over the n samples of a batch.</summary>
public enum NetworkLoss
{
    /// <summary>L = (1/2n)·Σᵢ‖f(xᵢ) − yᵢ‖²: ∂L/∂f = (f − y)/n and ∂²L/∂f² = I/n.</summary>
    MeanSquaredError,

    /// <summary>
    /// L = (1/n)·Σᵢ [sᵢ·log Σₖ e^(f_ik) − Σₖ y_ik·f_ik] with sᵢ = Σₖ y_ik: the softmax cross-entropy −(1/n)Σᵢₖ y_ik log pᵢₖ
    /// for target rows of probabilities (one-hot labels, sᵢ = 1); ∂L/∂fᵢ = (sᵢpᵢ − yᵢ)/n.
    /// </summary>
    SoftmaxCrossEntropy,
}
