namespace FeatureLearning.LinearRfm;

/// <summary>One lin-RFM iteration: its errors and time.</summary>
/// <param name="Iteration">Iteration t (0-based).</param>
/// <param name="TrainMse">Mean squared error on the fitted (observed) values.</param>
/// <param name="HeldOutMse">Mean squared error on the held-out values, or NaN without any.</param>
/// <param name="TestMse">Mean squared error against a known truth (matrix completion: on every unobserved entry), or NaN.</param>
/// <param name="Ridge">The ridge λ used in this iteration.</param>
/// <param name="Seconds">Wall-clock seconds of the iteration.</param>
public readonly record struct LinearRfmIteration(int Iteration, double TrainMse, double HeldOutMse, double TestMse, double Ridge, double Seconds);
