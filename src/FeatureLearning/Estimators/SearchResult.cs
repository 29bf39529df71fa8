using System.Text;

namespace FeatureLearning.Estimators;

/// <summary>
/// The outcome of a <see cref="HyperParameterSearch"/>: every candidate's fold scores, the best one (highest mean
/// score; the earlier candidate on ties) and the model refitted with its options on all the data.
/// </summary>
/// <typeparam name="TModel">The fitted model type.</typeparam>
public sealed class SearchResult<TModel>
{
    internal SearchResult(IReadOnlyList<SearchCandidate> candidates, SearchCandidate best, TModel bestModel)
    {
        Candidates = candidates.ToArray();
        Best = best;
        BestModel = bestModel;
    }

    /// <summary>Every candidate, in the order tried.</summary>
    public IReadOnlyList<SearchCandidate> Candidates { get; }

    /// <summary>The candidate with the highest mean held-out score.</summary>
    public SearchCandidate Best { get; }

    /// <summary>The model fitted with <see cref="Best"/>'s options on all the data given to the search.</summary>
    public TModel BestModel { get; }

    /// <summary>One line per candidate (the best marked with <c>*</c>).</summary>
    /// <returns>The table.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var c in Candidates)
        {
            text.Append(c.Index == Best.Index ? "* " : "  ").AppendLine(c.ToString());
        }

        return text.ToString();
    }
}
