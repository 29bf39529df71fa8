using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// The feature matrix M of a fitted RFM against the AGOP of its final predictor (<see cref="NeuralFeatureAnsatz.CompareRfm{T}"/>).
/// The matrices are copies that belong to this result.
/// </summary>
/// <param name="FeatureMatrix">M, d × d, the metric the final predictor was fitted with.</param>
/// <param name="Agop">The AGOP G of the final predictor at the evaluation points (normalised as <see cref="Rfm.Agop.Compute{T}"/>: (1/m) Σⱼ Σ_k ∇f_k ∇f_kᵀ).</param>
/// <param name="AgopPower">G^s.</param>
/// <param name="Power">s.</param>
/// <param name="Correlation">The Pearson correlation of the flattened entries of M and G^s.</param>
/// <param name="Alignment">The cosine alignment ⟨M, G^s⟩_F / (‖M‖_F‖G^s‖_F).</param>
public sealed record RfmAgopComparison(Matrix<double> FeatureMatrix, Matrix<double> Agop, Matrix<double> AgopPower, double Power, double Correlation, double Alignment);
