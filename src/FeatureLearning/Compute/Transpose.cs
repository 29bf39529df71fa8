namespace FeatureLearning.Compute;

/// <summary>Whether a GEMM/SYRK operand is used as stored or transposed (BLAS's <c>TRANS</c> argument).</summary>
public enum Transpose
{
    /// <summary>Use the operand as stored: op(A) = A.</summary>
    None = 0,

    /// <summary>Use the transpose of the operand: op(A) = Aᵀ.</summary>
    Transpose = 1,
}
