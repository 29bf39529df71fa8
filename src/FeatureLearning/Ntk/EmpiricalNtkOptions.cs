namespace FeatureLearning.Ntk;

/// <summary>Options of <see cref="EmpiricalNtk"/>: what to compute and how large a block is.</summary>
public sealed record EmpiricalNtkOptions
{
    /// <summary>The default options.</summary>
    public static EmpiricalNtkOptions Default { get; } = new();

    /// <summary>Every output pair (the default) or the trace over the outputs.</summary>
    public EmpiricalNtkMode Mode { get; init; } = EmpiricalNtkMode.PerOutput;

    /// <summary>
    /// The kernel rows (and columns) of one block (≥ 1): a block pairs b samples of X with b samples of Z, b = BlockSize in
    /// the traced mode and max(1, BlockSize / c) per output, so that a block of the kernel is at most BlockSize² entries
    /// whatever c. The device memory is O(BlockSize² + b·Σ fan) and does not grow with n (see
    /// <see cref="EmpiricalNtk.PeakElements"/>). Default 2,048.
    /// </summary>
    public int BlockSize { get; init; } = 2048;

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the bad property.</summary>
    public void Validate()
    {
        Validation.DefinedEnum(Mode, nameof(Mode));
        if (BlockSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "The block size must be at least 1.");
        }
    }

    /// <summary>The samples per block for a network with <paramref name="outputs"/> outputs.</summary>
    internal int SamplesPerBlock(int outputs) => Mode == EmpiricalNtkMode.Traced ? BlockSize : Math.Max(1, BlockSize / outputs);
}
