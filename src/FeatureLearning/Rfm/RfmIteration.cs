namespace FeatureLearning.Rfm;

/// <summary>
/// One RFM round: the kernel machine fitted with the metric M_t, its errors, and where the time went. Reported
/// through <see cref="IProgress{T}"/> and kept in <see cref="RfmModel{T}.History"/>.
/// </summary>
/// <param name="Iteration">Round t, counted from 0 (0 is the plain kernel machine with the initial metric; the last round is
/// <paramref name="Iterations"/> − 1). The same number as <see cref="RfmModel{T}.SelectedIteration"/>, the log and <see cref="ToString"/>.</param>
/// <param name="Iterations">Total number of rounds T.</param>
/// <param name="TrainMse">Mean squared error on the training set (mean over entries).</param>
/// <param name="TrainAccuracy">Training accuracy (arg max for multi-output targets; NaN for one output).</param>
/// <param name="ValidationMse">Validation mean squared error, or NaN without a validation set.</param>
/// <param name="ValidationAccuracy">Validation accuracy, or NaN without a validation set or with one output.</param>
/// <param name="Jitter">Jitter the Cholesky solve added (0 when none).</param>
/// <param name="KernelSeconds">Seconds spent on kernel matrices (training, validation and AGOP sample).</param>
/// <param name="SolveSeconds">Seconds spent on the Cholesky factorization and solve (with the Nyström solver: the whole solve,
/// its kernel matrices K_mm and K_nm, the factorizations, CG and the training predictions).</param>
/// <param name="AgopSeconds">Seconds spent on the AGOP and the metric update (0 in the last round).</param>
public readonly record struct RfmIteration(
    int Iteration,
    int Iterations,
    double TrainMse,
    double TrainAccuracy,
    double ValidationMse,
    double ValidationAccuracy,
    double Jitter,
    double KernelSeconds,
    double SolveSeconds,
    double AgopSeconds)
{
    /// <summary>
    /// Refinement steps of the round's solve when a single-precision factor was refined to double accuracy
    /// (<see cref="Compute.CholeskyOptions.MixedPrecision"/>); 0 when K + λI was factored in the precision of the data.
    /// </summary>
    public int RefinementSteps { get; init; }

    /// <summary>Conjugate-gradient iterations of the round's Nyström solve; 0 with the exact solver. Not kept by the model file.</summary>
    public int SolverIterations { get; init; }

    /// <summary>Final relative CG residual of the round's Nyström solve (<see cref="Solvers.NystromReport.FinalResidual"/>); 0 with the exact solver. Not kept by the model file.</summary>
    public double SolverResidual { get; init; }

    /// <summary>Total seconds of the round.</summary>
    public double Seconds => KernelSeconds + SolveSeconds + AgopSeconds;

    /// <summary>One line, with the round numbered from 0 as everywhere: <c>round 4 of 0–4: train MSE …</c>.</summary>
    /// <returns>The line.</returns>
    public override string ToString() =>
        $"round {Iteration} of 0–{Iterations - 1}: train MSE {TrainMse:G4}" +
        (double.IsNaN(ValidationMse) ? string.Empty : $", validation MSE {ValidationMse:G4}") +
        (double.IsNaN(ValidationAccuracy) ? string.Empty : $", validation accuracy {ValidationAccuracy:P2}") +
        $", {Seconds:F2} s";
}
