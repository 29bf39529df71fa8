namespace FeatureLearning.Ntk;

/// <summary>One report of <see cref="EmpiricalNtk"/>: after every block of the kernel.</summary>
/// <param name="BlocksDone">The blocks finished so far (≥ 1).</param>
/// <param name="BlockCount">The blocks of the whole computation.</param>
public readonly record struct EmpiricalNtkProgress(int BlocksDone, int BlockCount);
