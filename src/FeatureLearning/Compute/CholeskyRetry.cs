namespace FeatureLearning.Compute;

/// <summary>The jitter retry loop of <see cref="CholeskyOptions"/>, shared by every backend.</summary>
internal static class CholeskyRetry
{
    /// <summary>The report for a 0 × 0 matrix: nothing to factor.</summary>
    public static CholeskyReport Empty => new(1, 0, -1);

    /// <summary>Runs the retry policy around a backend's own factorization, the jitter scaled by the mean of the original diagonal.</summary>
    /// <typeparam name="T">float or double (sets the default initial jitter).</typeparam>
    /// <param name="diagonal">The original diagonal of A (n values, n ≥ 1).</param>
    /// <param name="options">The policy.</param>
    /// <param name="attempt">Factors in place; returns -1 on success or the failed pivot.</param>
    /// <param name="restore">Restores the original lower triangle and diagonal, then adds the given jitter to the diagonal.</param>
    /// <param name="cancellationToken">Checked between attempts.</param>
    /// <returns>The report.</returns>
    public static CholeskyReport Run<T>(ReadOnlySpan<T> diagonal, CholeskyOptions options, Func<int> attempt, Action<double> restore, CancellationToken cancellationToken)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        double sum = 0;
        foreach (var v in diagonal)
        {
            sum += double.CreateTruncating(v);
        }

        return Run(diagonal.Length, sum / diagonal.Length, options.InitialJitterFor<T>(), options, attempt, restore, cancellationToken);
    }

    /// <summary>Runs the retry policy around a backend's own factorization.</summary>
    /// <param name="order">n.</param>
    /// <param name="meanDiagonal">Mean of the original diagonal (sets the jitter scale).</param>
    /// <param name="jitterScale">Relative jitter of the first retry (from the options and the precision).</param>
    /// <param name="options">The policy.</param>
    /// <param name="attempt">Factors in place; returns -1 on success or the failed pivot.</param>
    /// <param name="restore">Restores the original lower triangle and diagonal, then adds the given jitter to the diagonal.</param>
    /// <param name="cancellationToken">Checked between attempts.</param>
    /// <returns>The report.</returns>
    public static CholeskyReport Run(
        int order, double meanDiagonal, double jitterScale, CholeskyOptions options, Func<int> attempt, Action<double> restore, CancellationToken cancellationToken)
    {
        int first = attempt();
        if (first < 0)
        {
            return new CholeskyReport(1, 0, -1);
        }

        double scale = double.IsFinite(meanDiagonal) && meanDiagonal > 0 ? meanDiagonal : 1.0;
        double jitter = jitterScale * scale;
        int failed = first;
        for (int retry = 1; retry <= options.MaxRetries; retry++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            restore(jitter);
            failed = attempt();
            if (failed < 0)
            {
                return new CholeskyReport(retry + 1, jitter, first);
            }

            if (retry < options.MaxRetries)
            {
                jitter *= options.JitterGrowth;
            }
        }

        throw new MatrixNotPositiveDefiniteException(order, options.MaxRetries + 1, options.MaxRetries > 0 ? jitter : 0, failed);
    }
}
