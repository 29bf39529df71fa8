namespace FeatureLearning.Compute;

/// <summary>What a Cholesky factorization did: how many attempts it needed and the jitter that succeeded.</summary>
/// <param name="Attempts">Number of factorization attempts (1 when the matrix was factored as given).</param>
/// <param name="Jitter">Absolute value added to the diagonal before the successful attempt (0 when none).</param>
/// <param name="FirstFailedPivot">Index of the first non-positive pivot of the first attempt, or -1 if it succeeded.</param>
public readonly record struct CholeskyReport(int Attempts, double Jitter, int FirstFailedPivot)
{
    /// <summary>Whether jitter had to be added.</summary>
    public bool JitterAdded => Jitter > 0;

    /// <summary>
    /// Refinement steps of a mixed-precision solve (<see cref="MixedPrecision"/>) whose single-precision factor produced the solution;
    /// 0 when the matrix was factored in the precision of the data (including a mixed-precision attempt that fell back).
    /// </summary>
    public int RefinementSteps { get; init; }

    /// <summary>Whether a mixed-precision attempt was abandoned for the factorization in the precision of the data.</summary>
    public bool RefinementFellBack { get; init; }
}
