namespace FeatureLearning.Estimators;

/// <summary>One point of a hyper-parameter search and its cross-validation scores.</summary>
/// <param name="Index">Its position in the search's candidate list (0-based).</param>
/// <param name="Options">The estimator options tried.</param>
/// <param name="Scores">The held-out score of every fold (accuracy or R²), with mean and standard deviation.</param>
public sealed record SearchCandidate(int Index, FeatureMachineOptions Options, CrossValidationScores Scores)
{
    /// <summary>One line: the hyper-parameters and the scores.</summary>
    /// <returns>The line.</returns>
    public override string ToString() => $"{Options.Describe()}: {Scores}";
}
