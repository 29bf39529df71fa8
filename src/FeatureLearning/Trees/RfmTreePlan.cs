using System.Diagnostics;

namespace FeatureLearning.Trees;

/// <summary>
/// The first step of an <see cref="RfmTree"/> fit: the splits of every tree (<see cref="Routing"/>) and, for each leaf,
/// the training rows that reach it. Each leaf can then be fitted on its own (<see cref="RfmTree.FitLeaf{T}"/>), in this
/// process or as a separate job, and the results assembled with <see cref="RfmTreeModel{T}.Assemble"/>. Immutable.
/// </summary>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class RfmTreePlan
{
    private readonly int[][] leafRows;

    internal RfmTreePlan(RfmTreeRouting routing, int[][] leafRows)
    {
        Routing = routing;
        this.leafRows = leafRows;
    }

    /// <summary>The splits of all trees.</summary>
    public RfmTreeRouting Routing { get; }

    /// <summary>The number of leaves of all trees together.</summary>
    public int LeafCount => leafRows.Length;

    /// <summary>
    /// The training rows (indices into the x given to <see cref="RfmTree.Plan{T}"/>, increasing) that reach leaf
    /// <paramref name="leaf"/>, in the order the leaf's RFM is fitted on them.
    /// </summary>
    /// <param name="leaf">A leaf index, 0 ≤ leaf &lt; <see cref="LeafCount"/>.</param>
    /// <returns>The row indices, a copy.</returns>
    public IReadOnlyList<int> LeafRows(int leaf)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leaf);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leaf, LeafCount);
        return leafRows[leaf].ToArray();
    }

    /// <summary>The leaf row indices without a copy.</summary>
    internal int[] Rows(int leaf) => leafRows[leaf];

    /// <inheritdoc />
    public override string ToString() =>
        $"RfmTreePlan: {Routing.TreeCount} tree(s), {LeafCount} leaves of {leafRows.Min(r => r.Length)}–{leafRows.Max(r => r.Length)} rows";
}
