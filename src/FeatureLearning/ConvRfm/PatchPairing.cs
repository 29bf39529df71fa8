namespace FeatureLearning.ConvRfm;

/// <summary>Which patch pairs a convolutional kernel compares.</summary>
public enum PatchPairing
{
    /// <summary>
    /// The aligned form K_M(x, z) = (1/P) Σ_p k_M(x_p, z_p): patches at the same position only (the kernel of a one-layer
    /// CNN with a fully connected readout). Not translation invariant.
    /// </summary>
    Aligned = 0,

    /// <summary>
    /// The all-pairs form K_M(x, z) = (1/P²) Σ_{p,p'} k_M(x_p, z_p'): every patch of x against every patch of z (the kernel
    /// of a one-layer CNN with global average pooling). Invariant to moving a pattern within the image; it costs P times
    /// the aligned form.
    /// </summary>
    AllPairs = 1,
}
