using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Estimators;

/// <summary>
/// Seeded k-fold cross-validation: the splits (plain or stratified by class) and the held-out scores of an estimator.
/// The same seed gives the same folds; the scaler of each fold is fitted on its training part only.
/// </summary>
public static class CrossValidation
{
    /// <summary>Splits rows 0 … count − 1 into <paramref name="folds"/> parts of nearly equal size by a seeded permutation.</summary>
    /// <param name="count">Number of rows n.</param>
    /// <param name="folds">Number of folds k, 2 ≤ k ≤ n.</param>
    /// <param name="seed">Seed of the permutation.</param>
    /// <returns>k folds; their test parts are disjoint and cover every row once.</returns>
    /// <exception cref="ArgumentOutOfRangeException">k &lt; 2 or k &gt; n.</exception>
    public static IReadOnlyList<CrossValidationFold> KFold(int count, int folds, int seed)
    {
        CheckFolds(count, folds);
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        var assignment = new int[count];
        for (int f = 0; f < folds; f++)
        {
            for (int p = (int)((long)f * count / folds); p < (int)((long)(f + 1) * count / folds); p++)
            {
                assignment[order[p]] = f;
            }
        }

        return FromAssignment(assignment, folds);
    }

    /// <summary>
    /// Splits the rows into <paramref name="folds"/> parts that keep the class proportions: each class's rows, in a seeded
    /// random order, are dealt to the folds in turn (continuing from where the previous class stopped, so the fold sizes
    /// differ by at most one).
    /// </summary>
    /// <typeparam name="TLabel">The label type.</typeparam>
    /// <param name="labels">The label of each row.</param>
    /// <param name="folds">Number of folds k, 2 ≤ k ≤ n.</param>
    /// <param name="seed">Seed of the permutations.</param>
    /// <returns>k folds; their test parts are disjoint and cover every row once.</returns>
    /// <exception cref="ArgumentException">A null label, k &lt; 2 or k &gt; n.</exception>
    public static IReadOnlyList<CrossValidationFold> StratifiedKFold<TLabel>(IReadOnlyList<TLabel> labels, int folds, int seed)
        where TLabel : notnull
    {
        ArgumentNullException.ThrowIfNull(labels);
        CheckFolds(labels.Count, folds);
        var classes = ClassLabels<TLabel>.From(labels, nameof(labels));
        var index = classes.Indices(labels, nameof(labels));
        var rng = new Random(seed);
        var assignment = new int[labels.Count];
        int next = 0;
        for (int k = 0; k < classes.Count; k++)
        {
            var members = Enumerable.Range(0, labels.Count).Where(i => index[i] == k).ToArray();
            rng.Shuffle(members);
            foreach (int i in members)
            {
                assignment[i] = next;
                next = (next + 1) % folds;
            }
        }

        return FromAssignment(assignment, folds);
    }

    /// <summary>The held-out accuracy of the classifier on each fold of a stratified seeded k-fold split.</summary>
    /// <typeparam name="TLabel">The label type.</typeparam>
    /// <param name="estimator">The classifier (its options are used for every fold).</param>
    /// <param name="x">Features, n × d.</param>
    /// <param name="y">n labels.</param>
    /// <param name="folds">Number of folds k.</param>
    /// <param name="seed">Seed of the split.</param>
    /// <param name="cancellationToken">Checked between and inside the fits.</param>
    /// <returns>The fold scores.</returns>
    /// <exception cref="ArgumentException">Bad features or labels, as in <see cref="FeatureMachineClassifier.Fit{TLabel}"/>.</exception>
    public static CrossValidationScores Evaluate<TLabel>(
        FeatureMachineClassifier estimator, InputMatrix x, IReadOnlyList<TLabel> y, int folds = 5, int seed = 0, CancellationToken cancellationToken = default)
        where TLabel : notnull
    {
        ArgumentNullException.ThrowIfNull(estimator);
        var xm = x.ToMatrix(nameof(x));
        FittedMachine.RequireCount(y, xm.RowCount, nameof(y));
        return Scores(StratifiedKFold(y, folds, seed), estimator.Options, ClassifierScore(xm, y), cancellationToken);
    }

    /// <summary>The held-out R² of the regressor on each fold of a seeded k-fold split.</summary>
    /// <param name="estimator">The regressor (its options are used for every fold).</param>
    /// <param name="x">Features, n × d.</param>
    /// <param name="y">n targets.</param>
    /// <param name="folds">Number of folds k.</param>
    /// <param name="seed">Seed of the split.</param>
    /// <param name="cancellationToken">Checked between and inside the fits.</param>
    /// <returns>The fold scores.</returns>
    /// <exception cref="ArgumentException">Bad features or targets, or a fold whose held-out targets are all equal.</exception>
    public static CrossValidationScores Evaluate(
        FeatureMachineRegressor estimator, InputMatrix x, IReadOnlyList<double> y, int folds = 5, int seed = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        var xm = x.ToMatrix(nameof(x));
        FeatureMachineRegressor.Targets(y, xm.RowCount, nameof(y));
        return Scores(KFold(xm.RowCount, folds, seed), estimator.Options, RegressorScore(xm, y), cancellationToken);
    }

    /// <summary>Fits a classifier with the options on a fold's training rows and returns its held-out accuracy.</summary>
    internal static Func<FeatureMachineOptions, CrossValidationFold, CancellationToken, double> ClassifierScore<TLabel>(Matrix<double> x, IReadOnlyList<TLabel> y)
        where TLabel : notnull
        => (options, fold, ct) => new FeatureMachineClassifier(options)
            .Fit(Rows(x, fold.Train), Pick(y, fold.Train), cancellationToken: ct)
            .Score(Rows(x, fold.Test), Pick(y, fold.Test));

    /// <summary>Fits a regressor with the options on a fold's training rows and returns its held-out R².</summary>
    internal static Func<FeatureMachineOptions, CrossValidationFold, CancellationToken, double> RegressorScore(Matrix<double> x, IReadOnlyList<double> y)
        => (options, fold, ct) => new FeatureMachineRegressor(options)
            .Fit(Rows(x, fold.Train), Pick(y, fold.Train), cancellationToken: ct)
            .Score(Rows(x, fold.Test), Pick(y, fold.Test));

    /// <summary>The scores of one set of options on every fold.</summary>
    internal static CrossValidationScores Scores(
        IReadOnlyList<CrossValidationFold> folds, FeatureMachineOptions options, Func<FeatureMachineOptions, CrossValidationFold, CancellationToken, double> score, CancellationToken cancellationToken)
    {
        var result = new double[folds.Count];
        for (int f = 0; f < folds.Count; f++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[f] = score(options, folds[f], cancellationToken);
        }

        return new CrossValidationScores(result);
    }

    /// <summary>The rows of <paramref name="x"/> at the indices, as a new matrix.</summary>
    internal static Matrix<double> Rows(Matrix<double> x, IReadOnlyList<int> rows)
        => Matrix<double>.Build.Dense(rows.Count, x.ColumnCount, (i, j) => x[rows[i], j]);

    private static T[] Pick<T>(IReadOnlyList<T> values, IReadOnlyList<int> rows) => rows.Select(i => values[i]).ToArray();

    private static void CheckFolds(int count, int folds)
    {
        if (folds < 2 || folds > count)
        {
            throw new ArgumentOutOfRangeException(nameof(folds), folds, $"The number of folds must lie in 2 … {count} (the number of rows).");
        }
    }

    private static CrossValidationFold[] FromAssignment(int[] assignment, int folds)
        => Enumerable.Range(0, folds).Select(f => new CrossValidationFold(
            Array.AsReadOnly(Enumerable.Range(0, assignment.Length).Where(i => assignment[i] != f).ToArray()),
            Array.AsReadOnly(Enumerable.Range(0, assignment.Length).Where(i => assignment[i] == f).ToArray()))).ToArray();
}
