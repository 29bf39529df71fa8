using System.Globalization;

namespace FeatureLearning.Estimators;

/// <summary>The held-out scores of a k-fold cross-validation (accuracy for classifiers, R² for regressors), fold by fold.</summary>
public sealed class CrossValidationScores
{
    private readonly double[] scores;

    /// <summary>Collects the fold scores.</summary>
    /// <param name="foldScores">One finite score per fold (at least one).</param>
    /// <exception cref="ArgumentException">No scores, or a non-finite one.</exception>
    public CrossValidationScores(IReadOnlyList<double> foldScores)
    {
        ArgumentNullException.ThrowIfNull(foldScores);
        if (foldScores.Count == 0 || foldScores.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("At least one fold score is needed, and every score must be finite.", nameof(foldScores));
        }

        scores = foldScores.ToArray();
        Mean = scores.Average();
        StandardDeviation = Math.Sqrt(scores.Select(v => (v - Mean) * (v - Mean)).Average());
    }

    /// <summary>The score of each fold, in fold order.</summary>
    public IReadOnlyList<double> FoldScores => Array.AsReadOnly(scores);

    /// <summary>The mean over the folds.</summary>
    public double Mean { get; }

    /// <summary>The standard deviation over the folds (divisor k, as numpy's and scikit-learn's <c>std</c>).</summary>
    public double StandardDeviation { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Mean:F4} ± {StandardDeviation:F4} (folds {string.Join(", ", scores.Select(v => v.ToString("F4", CultureInfo.InvariantCulture)))})");
}
