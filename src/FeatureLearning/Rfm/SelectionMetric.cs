namespace FeatureLearning.Rfm;

/// <summary>Which validation metric chooses the returned iteration when a validation set is given.</summary>
public enum SelectionMetric
{
    /// <summary>Accuracy for multi-output (one-hot) targets, mean squared error otherwise.</summary>
    Auto = 0,

    /// <summary>Highest validation accuracy (ties: lower validation MSE).</summary>
    Accuracy = 1,

    /// <summary>Lowest validation mean squared error.</summary>
    MeanSquaredError = 2,

    /// <summary>Always the last round: the validation set is only monitored (its errors recorded in the history).</summary>
    Last = 3,
}
