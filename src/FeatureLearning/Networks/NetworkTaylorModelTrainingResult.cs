namespace FeatureLearning.Networks;

/// <summary>The outcome of <see cref="NetworkTaylorModel{T}.Train"/>: the trained copy and the loss history.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
/// <param name="Model">The trained model, a new copy (the model trained from is unchanged); the caller disposes it.</param>
/// <param name="StepLosses">The loss of every step's batch, before its update.</param>
/// <param name="EpochLosses">The sample-weighted mean batch loss of every epoch.</param>
/// <param name="FinalLoss">The loss on all the training data after the last step.</param>
/// <param name="Diverged">Whether training stopped early because a loss was not finite.</param>
public sealed record NetworkTaylorModelTrainingResult<T>(NetworkTaylorModel<T> Model, IReadOnlyList<double> StepLosses, IReadOnlyList<double> EpochLosses, double FinalLoss, bool Diverged)
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;
