namespace FeatureLearning.Rfm;

/// <summary>How RFM rescales the new metric M after each AGOP update.</summary>
public enum MetricNormalization
{
    /// <summary>Divide by the largest absolute entry (the reference RFM implementation).</summary>
    MaxEntry = 0,

    /// <summary>Keep M as computed (the grokking setting: M = AGOP^{1/2}).</summary>
    None = 1,

    /// <summary>Divide by the trace and multiply by d, so tr(M) = d as for the identity.</summary>
    Trace = 2,

    /// <summary>Divide by the Frobenius norm and multiply by √d, so ‖M‖_F = √d as for the identity.</summary>
    Frobenius = 3,
}
