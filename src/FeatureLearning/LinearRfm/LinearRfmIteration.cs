namespace FeatureLearning.LinearRfm;

/// <summary>One lin-RFM iteration: its errors and time.</summary>
/// <remarks>
/// The two errors against a known truth are separate properties because they measure different things:
/// <see cref="UnobservedMse"/> belongs to <see cref="MatrixCompletion"/>, <see cref="RelativeWeightError"/> to
/// <see cref="SparseRegression"/>; each is NaN for the other estimator and when no truth was given to <c>Fit</c>.
/// </remarks>
/// <param name="Iteration">Iteration t (0-based).</param>
/// <param name="TrainMse">Mean squared error on the fitted (observed) values.</param>
/// <param name="HeldOutMse">Mean squared error on the held-out values (matrix completion), or NaN without any.</param>
/// <param name="UnobservedMse">
/// Matrix completion with a truth Y*: the mean squared error (1/|Ωᶜ|) Σ_{(i,j)∉Ω} (W_ij − Y*_ij)² over every entry that
/// was not observed (Ω: all observed entries, training and held out). NaN otherwise.
/// </param>
/// <param name="RelativeWeightError">
/// Sparse regression with a true w*: the relative squared error ‖w − w*‖² / ‖w*‖² of the weights (not a root; its square root
/// is the relative error). NaN otherwise.
/// </param>
/// <param name="Ridge">The ridge λ used in this iteration.</param>
/// <param name="Seconds">Wall-clock seconds of the iteration.</param>
public readonly record struct LinearRfmIteration(int Iteration, double TrainMse, double HeldOutMse, double UnobservedMse, double RelativeWeightError, double Ridge, double Seconds);
