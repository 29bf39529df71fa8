namespace FeatureLearning.Diagnostics;

/// <summary>The outcome of <see cref="TrainingMonitor.Train{T}"/>.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
/// <param name="Training">The training result (the trained copy, which the caller disposes, and the loss history).</param>
/// <param name="Records">The records, by increasing step.</param>
/// <param name="Catapult">The catapult detection over the records' (step, loss, NTK top eigenvalue); <see langword="null"/> without tangent-kernel records.</param>
public sealed record MonitoredTrainingResult<T>(Networks.NetworkTrainingResult<T> Training, IReadOnlyList<TrainingRecord> Records, CatapultDetection? Catapult)
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;
