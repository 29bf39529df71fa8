namespace FeatureLearning.Ntk;

/// <summary>Which infinite-width kernel of a network a <see cref="NeuralKernel"/> is.</summary>
public enum NeuralKernelKind
{
    /// <summary>The neural tangent kernel Θ: the kernel of gradient-descent training of the whole network.</summary>
    Ntk = 0,

    /// <summary>The NNGP kernel Σ: the covariance of the network's output at initialisation (training the readout only).</summary>
    Nngp = 1,
}
