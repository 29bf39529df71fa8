namespace FeatureLearning.Estimators;

/// <summary>
/// Grid or seeded random search over bandwidth, ridge, kernel, rounds and diagonal/full M: every candidate is scored
/// by the same seeded k-fold cross-validation (stratified for classifiers), and the best mean score is refitted on all
/// the data.
/// </summary>
/// <example>
/// <code>
/// var search = new HyperParameterSearch(new SearchSpace { Bandwidths = [5, 10], Ridges = [1e-3, 1e-1], Rounds = [1, 3] })
///     .Fit(new FeatureMachineClassifier(), x, labels);
/// Console.WriteLine(search);                      // every candidate's fold scores, the best marked
/// var model = search.BestModel;
/// </code>
/// </example>
public sealed class HyperParameterSearch
{
    /// <summary>Creates the search.</summary>
    /// <param name="space">The values to try.</param>
    /// <param name="folds">Number of cross-validation folds k ≥ 2.</param>
    /// <param name="seed">Seed of the folds and of the random draw.</param>
    /// <param name="randomCandidates">Null for the full grid; otherwise this many distinct grid points drawn at random with the seed (all of them when the grid is smaller).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="folds"/> &lt; 2 or <paramref name="randomCandidates"/> &lt; 1.</exception>
    public HyperParameterSearch(SearchSpace space, int folds = 5, int seed = 0, int? randomCandidates = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        if (randomCandidates is { } r)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(r, 1, nameof(randomCandidates));
        }

        Space = space;
        Folds = folds;
        Seed = seed;
        RandomCandidates = randomCandidates;
    }

    /// <summary>The values to try.</summary>
    public SearchSpace Space { get; }

    /// <summary>Number of folds k.</summary>
    public int Folds { get; }

    /// <summary>Seed of the folds and of the random draw.</summary>
    public int Seed { get; }

    /// <summary>Null for a grid search; otherwise the number of grid points drawn.</summary>
    public int? RandomCandidates { get; }

    /// <summary>The candidates tried: the grid, or a seeded random draw of distinct grid points kept in grid order.</summary>
    /// <param name="baseOptions">The estimator's options, which supply every value not searched.</param>
    /// <returns>The candidate options.</returns>
    public IReadOnlyList<FeatureMachineOptions> Candidates(FeatureMachineOptions baseOptions)
    {
        var grid = Space.Grid(baseOptions);
        if (RandomCandidates is not { } count || count >= grid.Count)
        {
            return grid;
        }

        var order = Enumerable.Range(0, grid.Count).ToArray();
        new Random(Seed).Shuffle(order);
        return order[..count].Order().Select(i => grid[i]).ToArray();
    }

    /// <summary>Searches with a classifier: stratified folds, accuracy.</summary>
    /// <typeparam name="TLabel">The label type.</typeparam>
    /// <param name="estimator">The classifier whose options supply every value not searched.</param>
    /// <param name="x">Features, n × d.</param>
    /// <param name="y">n labels.</param>
    /// <param name="progress">Receives each candidate once scored.</param>
    /// <param name="cancellationToken">Checked between and inside the fits.</param>
    /// <returns>Every candidate's scores, the best, and the best refitted on all the data.</returns>
    /// <exception cref="ArgumentException">Bad features or labels, or a bad search space (the message names it).</exception>
    public SearchResult<FittedClassifier<TLabel>> Fit<TLabel>(
        FeatureMachineClassifier estimator, InputMatrix x, IReadOnlyList<TLabel> y, IProgress<SearchCandidate>? progress = null, CancellationToken cancellationToken = default)
        where TLabel : notnull
    {
        ArgumentNullException.ThrowIfNull(estimator);
        var xm = x.ToMatrix(nameof(x));
        FittedMachine.RequireCount(y, xm.RowCount, nameof(y));
        var best = Run(estimator.Options, CrossValidation.StratifiedKFold(y, Folds, Seed), CrossValidation.ClassifierScore(xm, y), progress, cancellationToken);
        return Refit(best, new FeatureMachineClassifier(best.Best.Options).Fit(xm, y, cancellationToken: cancellationToken));
    }

    /// <summary>Searches with a regressor: plain folds, R².</summary>
    /// <param name="estimator">The regressor whose options supply every value not searched.</param>
    /// <param name="x">Features, n × d.</param>
    /// <param name="y">n targets.</param>
    /// <param name="progress">Receives each candidate once scored.</param>
    /// <param name="cancellationToken">Checked between and inside the fits.</param>
    /// <returns>Every candidate's scores, the best, and the best refitted on all the data.</returns>
    /// <exception cref="ArgumentException">Bad features or targets, or a bad search space (the message names it).</exception>
    public SearchResult<FittedRegressor> Fit(
        FeatureMachineRegressor estimator, InputMatrix x, IReadOnlyList<double> y, IProgress<SearchCandidate>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        var xm = x.ToMatrix(nameof(x));
        FeatureMachineRegressor.Targets(y, xm.RowCount, nameof(y));
        var best = Run(estimator.Options, CrossValidation.KFold(xm.RowCount, Folds, Seed), CrossValidation.RegressorScore(xm, y), progress, cancellationToken);
        return Refit(best, new FeatureMachineRegressor(best.Best.Options).Fit(xm, y, cancellationToken: cancellationToken));
    }

    private static SearchResult<TModel> Refit<TModel>((IReadOnlyList<SearchCandidate> All, SearchCandidate Best) scored, TModel model) => new(scored.All, scored.Best, model);

    private (IReadOnlyList<SearchCandidate> All, SearchCandidate Best) Run(
        FeatureMachineOptions baseOptions,
        IReadOnlyList<CrossValidationFold> folds,
        Func<FeatureMachineOptions, CrossValidationFold, CancellationToken, double> score,
        IProgress<SearchCandidate>? progress,
        CancellationToken cancellationToken)
    {
        var candidates = Candidates(baseOptions);
        var scored = new List<SearchCandidate>(candidates.Count);
        SearchCandidate? best = null;
        foreach (var options in candidates)
        {
            var candidate = new SearchCandidate(scored.Count, options, CrossValidation.Scores(folds, options, score, cancellationToken));
            scored.Add(candidate);
            progress?.Report(candidate);
            if (best is null || candidate.Scores.Mean > best.Scores.Mean)
            {
                best = candidate;
            }
        }

        return (scored, best!);
    }
}
