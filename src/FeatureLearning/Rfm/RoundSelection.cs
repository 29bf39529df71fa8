namespace FeatureLearning.Rfm;

/// <summary>
/// Which round of an RFM-style fit (RFM, ConvRFM) is returned: with a validation set and
/// <see cref="SelectionMetric"/> other than <see cref="SelectionMetric.Last"/>, the round with the best validation score
/// (accuracy, ties broken by the lower validation MSE, or MSE); otherwise the last round.
/// </summary>
/// <typeparam name="TState">What the fit keeps of the chosen round (its metric, coefficients, jitter).</typeparam>
/// <param name="selectBy">The selection metric.</param>
/// <param name="outputs">The number of outputs c (<see cref="SelectionMetric.Auto"/> takes accuracy for c &gt; 1).</param>
/// <param name="hasValidation">Whether a validation set is given.</param>
internal sealed class RoundSelection<TState>(SelectionMetric selectBy, int outputs, bool hasValidation)
{
    private (int Iteration, TState State, double Score, double Mse)? best;

    /// <summary>The chosen round; valid after <see cref="Offer"/> was called for the last round.</summary>
    public int Iteration => best?.Iteration ?? throw new InvalidOperationException("No round was offered.");

    /// <summary>The state of the chosen round.</summary>
    public TState State => best is { } b ? b.State : throw new InvalidOperationException("No round was offered.");

    /// <summary>Offers round <paramref name="t"/>; <paramref name="state"/> is called only when the round is kept.</summary>
    /// <param name="t">The round.</param>
    /// <param name="last">Whether it is the last round.</param>
    /// <param name="validationMse">Its validation MSE (NaN without a validation set).</param>
    /// <param name="validationAccuracy">Its validation accuracy (NaN without a validation set or for one output).</param>
    /// <param name="state">Captures what the fit keeps of the round.</param>
    public void Offer(int t, bool last, double validationMse, double validationAccuracy, Func<TState> state)
    {
        if (!hasValidation || selectBy == SelectionMetric.Last)
        {
            if (last)
            {
                best = (t, state(), 0, double.NaN);
            }

            return;
        }

        bool useAccuracy = selectBy == SelectionMetric.Accuracy || (selectBy == SelectionMetric.Auto && outputs > 1);
        double score = useAccuracy && !double.IsNaN(validationAccuracy) ? validationAccuracy : -validationMse;
        if (best is null || score > best.Value.Score || (score == best.Value.Score && validationMse < best.Value.Mse))
        {
            best = (t, state(), score, validationMse);
        }
    }
}
