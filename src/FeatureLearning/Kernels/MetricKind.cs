namespace FeatureLearning.Kernels;

/// <summary>The structure of a Mahalanobis metric M.</summary>
public enum MetricKind
{
    /// <summary>M = I: the Euclidean geometry.</summary>
    Identity = 0,

    /// <summary>M = diag(m), m ≥ 0: per-coordinate scales (diagonal RFM).</summary>
    Diagonal = 1,

    /// <summary>M symmetric positive semi-definite, d × d (full RFM).</summary>
    Full = 2,
}
