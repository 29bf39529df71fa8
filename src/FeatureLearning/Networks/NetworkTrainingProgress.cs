namespace FeatureLearning.Networks;

/// <summary>One report of <see cref="FullyConnectedNetwork{T}.Train"/>: after every step, and again at the end of every epoch.</summary>
/// <param name="Epoch">The epoch, from 0.</param>
/// <param name="Step">The number of steps taken so far (the step just taken is Step − 1).</param>
/// <param name="Loss">For a step report, the loss of its batch before the update; for an epoch report, the sample-weighted mean of the epoch's batch losses.</param>
/// <param name="EndOfEpoch">Whether this is the end-of-epoch report.</param>
public readonly record struct NetworkTrainingProgress(int Epoch, int Step, double Loss, bool EndOfEpoch);
