namespace FeatureLearning.Estimators;

/// <summary>One fold of a k-fold split: the rows to fit on and the held-out rows to score on (disjoint, both sorted).</summary>
/// <param name="Train">Row indices of the training part.</param>
/// <param name="Test">Row indices of the held-out part.</param>
public sealed record CrossValidationFold(IReadOnlyList<int> Train, IReadOnlyList<int> Test);
