namespace FeatureLearning.Networks;

/// <summary>The pointwise nonlinearities of <see cref="Activation"/>.</summary>
public enum ActivationKind
{
    /// <summary>φ(x) = max(x, 0).</summary>
    Relu,

    /// <summary>φ(x) = x for x ≥ 0, a·x for x &lt; 0 (slope a = <see cref="Activation.Slope"/>).</summary>
    LeakyRelu,

    /// <summary>φ(x) = tanh(x).</summary>
    Tanh,

    /// <summary>φ(x) = erf(x).</summary>
    Erf,

    /// <summary>φ(x) = x·Φ(x), Φ the standard normal distribution function (exact GELU, not the tanh approximation).</summary>
    Gelu,

    /// <summary>φ(x) = x².</summary>
    Quadratic,

    /// <summary>φ(x) = x.</summary>
    Linear,
}
