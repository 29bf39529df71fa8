using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Trees;

/// <summary>
/// The splits of one or more RFM trees: each inner node sends a point x to its left child when ⟨v, x⟩ ≤ t (v the top
/// eigenvector of the node's split-RFM feature matrix, t the median projection of the node's training rows) and to its
/// right child otherwise; each leaf has an index among all leaves of all trees. Immutable. This is what a distributed
/// fit writes before the leaves are fitted (<see cref="Save(string)"/>), and what <see cref="RfmTreeModel{T}"/> routes with.
/// </summary>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class RfmTreeRouting
{
    private readonly int[] roots;
    private readonly int[] left;
    private readonly int[] right;
    private readonly double[] thresholds;
    private readonly double[] directions;
    private readonly int[] leafTree;

    /// <summary>Creates a routing from its arrays (checked).</summary>
    /// <param name="dimension">Input dimension d.</param>
    /// <param name="roots">Per tree: its root node, or ~leaf (a negative number) for a tree that is one leaf.</param>
    /// <param name="left">Per node: the left child, a node index greater than the node's, or ~leaf.</param>
    /// <param name="right">Per node: the right child, likewise.</param>
    /// <param name="thresholds">Per node: the threshold t.</param>
    /// <param name="directions">Per node: the unit direction v, d values each (row-major, nodes × d).</param>
    internal RfmTreeRouting(int dimension, int[] roots, int[] left, int[] right, double[] thresholds, double[] directions)
    {
        InputDimension = dimension;
        this.roots = roots;
        this.left = left;
        this.right = right;
        this.thresholds = thresholds;
        this.directions = directions;
        leafTree = CheckStructure(dimension, roots, left, right, thresholds, directions);
    }

    /// <summary>The input dimension d.</summary>
    public int InputDimension { get; }

    /// <summary>The number of trees.</summary>
    public int TreeCount => roots.Length;

    /// <summary>The number of leaves of all trees together.</summary>
    public int LeafCount => leafTree.Length;

    /// <summary>The number of inner (split) nodes of all trees together.</summary>
    public int SplitCount => thresholds.Length;

    /// <summary>The tree that leaf <paramref name="leaf"/> belongs to.</summary>
    /// <param name="leaf">A leaf index, 0 ≤ leaf &lt; <see cref="LeafCount"/>.</param>
    /// <returns>The tree index.</returns>
    public int TreeOfLeaf(int leaf)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leaf);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leaf, LeafCount);
        return leafTree[leaf];
    }

    /// <summary>The split directions v of all inner nodes (one row per node, unit length, in the nodes' order), a copy.</summary>
    public Matrix<double> SplitDirections => Matrix<double>.Build.DenseOfRowMajor(SplitCount, InputDimension, directions);

    /// <summary>The thresholds t of all inner nodes, a copy.</summary>
    public IReadOnlyList<double> Thresholds => thresholds.ToArray();

    /// <summary>Routes every row of <paramref name="x"/> through every tree.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="x">Inputs, m × d.</param>
    /// <returns>An m × trees array: element [i, t] is the leaf (a global leaf index) that row i reaches in tree t.</returns>
    /// <exception cref="ArgumentException">Wrong number of columns, empty input, or NaN/∞.</exception>
    public int[,] Route<T>(Matrix<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validation.NonEmptyFinite(x, nameof(x));
        if (x.ColumnCount != InputDimension)
        {
            throw new ArgumentException($"The trees were built on {InputDimension} features but x has {x.ColumnCount}.", nameof(x));
        }

        var data = x.ToRowMajorArray();
        int m = x.RowCount;
        var result = new int[m, TreeCount];
        Parallel.For(0, (m + 1023) / 1024, block =>
        {
            for (int i = block * 1024; i < Math.Min(m, (block + 1) * 1024); i++)
            {
                for (int t = 0; t < TreeCount; t++)
                {
                    result[i, t] = RouteRow<T>(data.AsSpan(i * InputDimension, InputDimension), roots[t]);
                }
            }
        });

        return result;
    }

    /// <summary>
    /// Saves the routing (format in <c>docs/file-format.md</c>, tag <c>RTR1</c>, always precision 64) atomically, like the models.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the routing to a stream.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.RfmTreeRoutingTag, Precision.Double, WritePayload);

    /// <summary>Loads a routing saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <returns>The routing.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a routing file, or a malformed one (the message says what is wrong).</exception>
    public static RfmTreeRouting Load(string path) => ModelFile.LoadFromFile(path, Load);

    /// <summary>Reads a routing from a stream.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <returns>The routing.</returns>
    /// <exception cref="InvalidDataException">Not a routing, or malformed.</exception>
    public static RfmTreeRouting Load(Stream stream) => ModelFile.Load(stream, ModelFile.RfmTreeRoutingTag, Precision.Double, ReadPayload);

    /// <inheritdoc />
    public override string ToString() => $"RfmTreeRouting: {TreeCount} tree(s), {SplitCount} splits, {LeafCount} leaves, d = {InputDimension}";

    /// <summary>The leaf a row reaches from <paramref name="node"/> (a node index, or ~leaf).</summary>
    internal int RouteRow<T>(ReadOnlySpan<T> row, int node)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        while (node >= 0)
        {
            node = Project(row, node) <= thresholds[node] ? left[node] : right[node];
        }

        return ~node;
    }

    /// <summary>⟨v_node, x⟩, summed in coordinate order (the same arithmetic when planning and when predicting).</summary>
    internal double Project<T>(ReadOnlySpan<T> row, int node)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = directions.AsSpan(node * InputDimension, InputDimension);
        double s = 0;
        for (int j = 0; j < v.Length; j++)
        {
            s += double.CreateTruncating(row[j]) * v[j];
        }

        return s;
    }

    /// <summary>Projection with a direction that is not in a routing yet (while planning), by the same arithmetic.</summary>
    internal static double Project<T>(ReadOnlySpan<T> row, ReadOnlySpan<double> v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        for (int j = 0; j < v.Length; j++)
        {
            s += double.CreateTruncating(row[j]) * v[j];
        }

        return s;
    }

    /// <summary>int32 d, trees, nodes; per tree int32 root; per node int32 left, int32 right, double t, d doubles v.</summary>
    internal void WritePayload(BinaryWriter w)
    {
        w.Write(InputDimension);
        w.Write(TreeCount);
        w.Write(SplitCount);
        foreach (int root in roots)
        {
            w.Write(root);
        }

        for (int k = 0; k < SplitCount; k++)
        {
            w.Write(left[k]);
            w.Write(right[k]);
            w.Write(thresholds[k]);
            ModelFile.WriteArray(w, directions.AsSpan(k * InputDimension, InputDimension).ToArray());
        }
    }

    /// <summary>Reads the fields written by <see cref="WritePayload"/>; a structure that is not a set of trees is an <see cref="InvalidDataException"/>.</summary>
    internal static RfmTreeRouting ReadPayload(ModelReader r)
    {
        long at = r.Position;
        int d = r.ReadInt32("tree input dimension", 1);
        int trees = r.ReadCount("trees", sizeof(int));
        int nodes = r.ReadCount("tree nodes", (int)Math.Min(int.MaxValue, (2 * sizeof(int)) + ((d + 1L) * sizeof(double))));
        if (trees < 1)
        {
            throw ModelReader.Corrupt($"the routing at byte {at} has no tree.");
        }

        var roots = new int[trees];
        for (int t = 0; t < trees; t++)
        {
            roots[t] = r.ReadInt32("tree root");
        }

        var left = new int[nodes];
        var right = new int[nodes];
        var thresholds = new double[nodes];
        var directions = new double[(long)nodes * d];
        for (int k = 0; k < nodes; k++)
        {
            left[k] = r.ReadInt32("left child");
            right[k] = r.ReadInt32("right child");
            thresholds[k] = r.ReadDouble("split threshold");
            r.ReadArray<double>("split direction", d).CopyTo(directions, (long)k * d);
        }

        try
        {
            return new RfmTreeRouting(d, roots, left, right, thresholds, directions);
        }
        catch (ArgumentException e)
        {
            throw ModelReader.Corrupt($"the routing at byte {at} is not a set of trees: {e.Message}");
        }
    }

    /// <summary>
    /// Checks that the nodes form trees (children have larger indices than their parent, every node has one parent,
    /// the leaves are numbered 0 … L − 1 in order of the trees) and that the values are finite; returns each leaf's tree.
    /// </summary>
    private static int[] CheckStructure(int d, int[] roots, int[] left, int[] right, double[] thresholds, double[] directions)
    {
        int nodes = thresholds.Length;
        if (d < 1 || roots.Length < 1 || left.Length != nodes || right.Length != nodes || directions.LongLength != (long)nodes * d)
        {
            throw new ArgumentException("The routing arrays have inconsistent lengths.");
        }

        if (!thresholds.All(double.IsFinite) || !directions.All(double.IsFinite))
        {
            throw new ArgumentException("A split threshold or direction is not finite.");
        }

        var parents = new int[nodes];
        var leaves = new List<int>();
        var leafSeen = new HashSet<int>();
        var spans = new List<(int Tree, int First, int Count)>();
        for (int t = 0; t < roots.Length; t++)
        {
            int firstLeaf = leaves.Count;
            var stack = new Stack<int>();
            stack.Push(roots[t]);
            while (stack.Count > 0)
            {
                int node = stack.Pop();
                if (node < 0)
                {
                    if (!leafSeen.Add(~node))
                    {
                        throw new ArgumentException($"Leaf {~node} is reached twice.");
                    }

                    leaves.Add(~node);
                    continue;
                }

                if (node >= nodes || parents[node]++ > 0)
                {
                    throw new ArgumentException($"Node {node} does not exist or has two parents.");
                }

                foreach (int child in new[] { right[node], left[node] })
                {
                    if (child >= 0 && child <= node)
                    {
                        throw new ArgumentException($"Node {node} has child {child}: children must follow their parent.");
                    }

                    stack.Push(child);
                }
            }

            var treeLeaves = leaves.Skip(firstLeaf).Order().ToArray();
            spans.Add((t, firstLeaf, treeLeaves.Length));
            for (int k = 0; k < treeLeaves.Length; k++)
            {
                if (treeLeaves[k] != firstLeaf + k)
                {
                    throw new ArgumentException($"Tree {t} must own leaves {firstLeaf}…{firstLeaf + treeLeaves.Length - 1}.");
                }
            }
        }

        if (parents.Any(p => p != 1))
        {
            throw new ArgumentException("A node is not part of any tree.");
        }

        var leafTree = new int[leaves.Count];
        foreach (var (tree, first, count) in spans)
        {
            leafTree.AsSpan(first, count).Fill(tree);
        }

        return leafTree;
    }
}
