using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using Microsoft.Extensions.Logging;

namespace FeatureLearning.ConvRfm;

/// <summary>Options of <see cref="ConvolutionalRfm"/>.</summary>
public sealed record ConvRfmOptions
{
    /// <summary>The base kernel on patches (default Laplace, L = 2).</summary>
    public IKernelFunction Kernel { get; init; } = new LaplaceKernel(2.0);

    /// <summary>The ridge λ ≥ 0 of each solve.</summary>
    public double Ridge { get; init; } = 1e-3;

    /// <summary>Number of rounds; round t fits with the patch metric M_t and, unless last, updates it from the patch AGOP.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>The patch size q (patches are q × q in every channel).</summary>
    public int PatchSize { get; init; } = 3;

    /// <summary>The stride between patch positions.</summary>
    public int Stride { get; init; } = 1;

    /// <summary>Padding on each side; null for q/2 (one patch per pixel at stride 1).</summary>
    public int? Padding { get; init; }

    /// <summary>Wrap around at the borders instead of zero padding.</summary>
    public bool CircularPadding { get; init; }

    /// <summary>Which patch pairs the kernel compares (default <see cref="PatchPairing.AllPairs"/>, the translation-invariant form).</summary>
    public PatchPairing Pairing { get; init; } = PatchPairing.AllPairs;

    /// <summary>Evaluate the patch AGOP on a seeded random sample of this many training images; null for all of them.</summary>
    public int? AgopSampleSize { get; init; }

    /// <summary>Seed of the AGOP sample.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// The most elements of a patch-level kernel block held at once (default 2²⁴, 128 MB in double precision). The
    /// all-pairs kernel between m and n images is a (m·P) × (n·P) matrix of patch pairs, and the patch AGOP's derivative
    /// weights are as large: both are formed in row blocks no larger than this and reduced as they go. A block holds at
    /// least one image's P patch rows against all n·P centre patches (the kernel) or one patch row (the AGOP), so with
    /// n·P² above this bound the kernel's blocks are one image tall and exceed it.
    /// </summary>
    public long MaxBlockElements { get; init; } = 1L << 24;

    /// <summary>
    /// The most bytes a fit may allocate; null (the default) for half of the memory available to the garbage collector
    /// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>). Before anything is allocated, <see cref="ConvolutionalRfm.Fit"/>
    /// (and <see cref="DeepConvRfm.Fit"/>, for every layer) estimates the memory of the fit from the shapes (patch matrices,
    /// kernel matrices, the largest kernel or AGOP block) and throws <see cref="InsufficientMemoryException"/> stating the
    /// estimate and this budget when the estimate is larger, instead of letting the operating system kill the process
    /// (e.g. <c>Padding = 50</c> on 6 × 6 images gives 10,816 patch positions per image). <see cref="long.MaxValue"/>
    /// turns the check off.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>The power p of M ← AGOP^p.</summary>
    public double AgopPower { get; init; } = 1.0;

    /// <summary>Rescaling of M after each update.</summary>
    public MetricNormalization Normalization { get; init; } = MetricNormalization.MaxEntry;

    /// <summary>The compute backend; null for <see cref="ComputeBackends.Default"/>.</summary>
    public IComputeBackend? Backend { get; init; }

    /// <summary>The jitter policy of each Cholesky solve.</summary>
    public CholeskyOptions Cholesky { get; init; } = CholeskyOptions.Default;

    /// <summary>
    /// Which validation metric picks the returned round when <see cref="ConvolutionalRfm.Fit"/> is given a validation set
    /// (as <see cref="RfmOptions.SelectBy"/>): the model of that round is returned and
    /// <see cref="ConvRfmModel{T}.SelectedIteration"/> names it; <see cref="SelectionMetric.Last"/> only monitors.
    /// </summary>
    public SelectionMetric SelectBy { get; init; } = SelectionMetric.Auto;

    /// <summary>Optional logger: jitter at Warning, per-round metrics at Debug.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Called synchronously on the fitting thread with each round's record, in order, before the next round and before
    /// <c>Fit</c> returns (see <see cref="RfmOptions.OnRound"/>); in a deep ConvRFM, each layer's own rounds.
    /// </summary>
    public Action<RfmIteration>? OnRound { get; init; }

    /// <summary>Checks the options, throwing <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        Validation.KernelAndRidge(Kernel, Ridge);
        ArgumentOutOfRangeException.ThrowIfLessThan(Rounds, 1, nameof(Rounds));
        ArgumentOutOfRangeException.ThrowIfLessThan(PatchSize, 1, nameof(PatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(Stride, 1, nameof(Stride));
        if (Padding is { } padding)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(padding, nameof(Padding));
        }

        Validation.PositiveFinite(AgopPower, nameof(AgopPower), "AGOP power");
        Validation.DefinedEnum(Pairing, nameof(Pairing));
        Validation.DefinedEnum(Normalization, nameof(Normalization));
        Validation.DefinedEnum(SelectBy, nameof(SelectBy));

        if (AgopSampleSize is { } size)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(AgopSampleSize));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBlockElements, 1, nameof(MaxBlockElements));
        if (MemoryBudgetBytes is { } budget)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1, nameof(MemoryBudgetBytes));
        }

        if (Cholesky is null)
        {
            throw new ArgumentNullException(nameof(Cholesky), "Cholesky options are required.");
        }

        Cholesky.Validate();
    }
}
