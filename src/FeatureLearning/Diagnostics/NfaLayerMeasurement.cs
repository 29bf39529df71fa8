using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// The neural feature ansatz measured at one layer of a network (<see cref="NeuralFeatureAnsatz.Measure{T}"/>). The
/// matrices are copies that belong to this result.
/// </summary>
/// <param name="Layer">The layer l (0 for the first, whose input is x).</param>
/// <param name="FeatureMatrix">The neural feature matrix WᵀW (or (W − W₀)ᵀ(W − W₀)), fan_in × fan_in, of the stored weights W_l.</param>
/// <param name="Agop">The layer's AGOP (see <see cref="NeuralFeatureAnsatz.LayerAgop{T}"/> for the normalisation), fan_in × fan_in.</param>
/// <param name="AgopPower">AGOP^s, the matrix compared with the feature matrix.</param>
/// <param name="Power">s.</param>
/// <param name="Correlation">The Pearson correlation of the flattened entries of the feature matrix and AGOP^s, in [−1, 1].</param>
public sealed record NfaLayerMeasurement(int Layer, Matrix<double> FeatureMatrix, Matrix<double> Agop, Matrix<double> AgopPower, double Power, double Correlation);
