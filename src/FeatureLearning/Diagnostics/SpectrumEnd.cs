namespace FeatureLearning.Diagnostics;

/// <summary>Which eigenvalues <see cref="Lanczos"/> finds.</summary>
public enum SpectrumEnd
{
    /// <summary>The largest in absolute value (a spectral norm; both ends of a spectrum symmetric about 0).</summary>
    LargestMagnitude,

    /// <summary>The largest (algebraically).</summary>
    Largest,

    /// <summary>The smallest (algebraically).</summary>
    Smallest,
}
