using FeatureLearning.Rfm;

namespace FeatureLearning.Trees;

/// <summary>Options of <see cref="RfmTree"/>, the xRFM-style tree of Recursive Feature Machines.</summary>
public sealed record RfmTreeOptions
{
    /// <summary>
    /// A node with more than this many training rows is split; a node with at most this many is a leaf (default 10,000).
    /// A leaf's kernel solve costs O(rows³) time and O(rows²) memory, so this bounds the cost of every leaf.
    /// </summary>
    public int MaxLeafSize { get; init; } = 10_000;

    /// <summary>
    /// The split RFM of a node is fitted on a seeded sample of at most this many of the node's rows (default 2,000); the
    /// top eigenvector of its feature matrix M is the split direction.
    /// </summary>
    public int SplitSampleSize { get; init; } = 2_000;

    /// <summary>
    /// The options of the RFM fitted at each node to find its split direction (default: Laplace L = 10, ridge 10⁻³,
    /// 3 rounds, full M, the last round). Only the feature matrix M of its last round is used.
    /// </summary>
    public RfmOptions SplitRfm { get; init; } = new() { Rounds = 3, SelectBy = SelectionMetric.Last };

    /// <summary>
    /// The options of the RFM fitted on each leaf (default: <see cref="RfmOptions"/>' defaults). They are ordinary RFM
    /// options, so any solver or kernel the RFM accepts works per leaf; the round is chosen on the leaf's own
    /// validation split (<see cref="ValidationFraction"/>) with <see cref="RfmOptions.SelectBy"/>.
    /// </summary>
    public RfmOptions LeafRfm { get; init; } = new();

    /// <summary>
    /// The fraction of each leaf's rows held out (seeded, per leaf) to choose the leaf RFM's round (default 0.2);
    /// 0 fits every leaf on all its rows and keeps the last round. A leaf too small to hold out a row uses all of them.
    /// </summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>
    /// Number of trees, each built with its own seeds on all the rows; the model predicts their average (default 1). Trees
    /// differ through their split samples and their leaves' validation splits: a node with at most
    /// <see cref="SplitSampleSize"/> rows fits its split RFM on all of them, so such a split is the same in every tree.
    /// </summary>
    public int Trees { get; init; } = 1;

    /// <summary>Nodes deeper than this are leaves whatever their size (default 30), a guard against degenerate data.</summary>
    public int MaxDepth { get; init; } = 30;

    /// <summary>
    /// At most this many leaves are fitted at the same time on a CPU backend (default 1: one leaf after another, each
    /// using all of the backend's threads). More leaves at once help when the leaves are small, at the price of one
    /// leaf kernel matrix (rows² elements) in memory per running leaf. On a GPU backend (any backend that is not a
    /// CPU backend) the leaves are always fitted one after another.
    /// </summary>
    /// <remarks>
    /// Each leaf's kernel matrix, solve and AGOP already use all of its backend's threads, so k leaves at once share the
    /// cores k ways; to give each running leaf its own cores, set <see cref="RfmOptions.Backend"/> of
    /// <see cref="LeafRfm"/> to a backend with fewer threads (<c>new ManagedBackend(maxDegreeOfParallelism: cores / k)</c>).
    /// The model is the same whatever the setting: each leaf depends only on its rows, the options and its index.
    /// </remarks>
    public int MaxParallelLeaves { get; init; } = 1;

    /// <summary>
    /// The seed every random choice of the tree derives from: the split samples (from the seed, the tree and the
    /// node) and each leaf's validation split (from the seed and the leaf's index).
    /// </summary>
    public int Seed { get; init; }

    /// <summary>Checks the options, throwing <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLeafSize, 1, nameof(MaxLeafSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(SplitSampleSize, 2, nameof(SplitSampleSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(Trees, 1, nameof(Trees));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDepth, 0, nameof(MaxDepth));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxParallelLeaves, 1, nameof(MaxParallelLeaves));
        if (!(ValidationFraction >= 0 && ValidationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "The validation fraction must lie in [0, 1).");
        }

        if (SplitRfm is null)
        {
            throw new ArgumentNullException(nameof(SplitRfm), "The split RFM options are required.");
        }

        if (LeafRfm is null)
        {
            throw new ArgumentNullException(nameof(LeafRfm), "The leaf RFM options are required.");
        }

        try
        {
            SplitRfm.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"SplitRfm: {e.Message}", nameof(SplitRfm), e);
        }

        try
        {
            LeafRfm.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"LeafRfm: {e.Message}", nameof(LeafRfm), e);
        }
    }
}
