using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Rfm;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Trees;

/// <summary>
/// A fitted RFM tree (or several, averaged): the splits (<see cref="Routing"/>) and one fitted RFM per leaf. A point is
/// predicted by the RFM of the leaf it reaches in each tree, and the trees' predictions are averaged. Immutable.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class RfmTreeModel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly RfmModel<T>[] leaves;

    private RfmTreeModel(RfmTreeRouting routing, RfmModel<T>[] leaves)
    {
        Routing = routing;
        this.leaves = leaves;
        OutputDimension = leaves[0].Predictor.OutputDimension;
    }

    /// <summary>The splits of the trees.</summary>
    public RfmTreeRouting Routing { get; }

    /// <summary>The RFM of every leaf, indexed like the routing's leaves.</summary>
    public IReadOnlyList<RfmModel<T>> Leaves => leaves;

    /// <summary>The number of trees averaged.</summary>
    public int TreeCount => Routing.TreeCount;

    /// <summary>The input dimension d.</summary>
    public int InputDimension => Routing.InputDimension;

    /// <summary>The number of outputs c.</summary>
    public int OutputDimension { get; }

    /// <summary>
    /// Joins a routing and the leaves fitted for it (by <see cref="RfmTree.FitLeaf{T}"/>, in this process or another) into one
    /// model.
    /// </summary>
    /// <param name="routing">The splits (<see cref="RfmTreePlan.Routing"/>, or <see cref="RfmTreeRouting.Load(string)"/>).</param>
    /// <param name="leaves">One RFM per leaf, in the routing's leaf order.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException">The wrong number of leaves, a leaf of another input dimension, or leaves with different numbers of outputs.</exception>
    public static RfmTreeModel<T> Assemble(RfmTreeRouting routing, IReadOnlyList<RfmModel<T>> leaves)
    {
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count != routing.LeafCount)
        {
            throw new ArgumentException($"The routing has {routing.LeafCount} leaves but {leaves.Count} leaf models were given.", nameof(leaves));
        }

        for (int i = 0; i < leaves.Count; i++)
        {
            if (leaves[i] is null)
            {
                throw new ArgumentException($"Leaf model {i} is null.", nameof(leaves));
            }

            if (leaves[i].Predictor.InputDimension != routing.InputDimension)
            {
                throw new ArgumentException($"Leaf model {i} takes {leaves[i].Predictor.InputDimension} features but the routing {routing.InputDimension}.", nameof(leaves));
            }

            if (leaves[i].Predictor.OutputDimension != leaves[0].Predictor.OutputDimension)
            {
                throw new ArgumentException($"Leaf model {i} has {leaves[i].Predictor.OutputDimension} outputs but leaf 0 has {leaves[0].Predictor.OutputDimension}.", nameof(leaves));
            }
        }

        return new RfmTreeModel<T>(routing, leaves.ToArray());
    }

    /// <summary>Predicts f(x) for each row: the leaf RFM's prediction in each tree, averaged over the trees.</summary>
    /// <param name="x">Inputs, m × d.</param>
    /// <param name="computeBackend">Optional backend (default: the one each leaf was fitted with, or the process default after loading).</param>
    /// <returns>Predictions, m × c.</returns>
    /// <exception cref="ArgumentException">Wrong number of columns, empty input, or NaN/∞.</exception>
    public Matrix<T> Predict(Matrix<T> x, IComputeBackend? computeBackend = null)
    {
        var route = Routing.Route(x);
        int m = x.RowCount, c = OutputDimension, d = InputDimension;
        var xHost = x.ToRowMajorArray();
        var sum = new T[m * c];
        for (int t = 0; t < TreeCount; t++)
        {
            var groups = Enumerable.Range(0, m).GroupBy(i => route[i, t]).OrderBy(g => g.Key);
            foreach (var group in groups)
            {
                var rows = group.ToArray();
                var data = new T[rows.Length * d];
                for (int i = 0; i < rows.Length; i++)
                {
                    xHost.AsSpan(rows[i] * d, d).CopyTo(data.AsSpan(i * d, d));
                }

                var f = leaves[group.Key].Predict(Matrix<T>.Build.DenseOfRowMajor(rows.Length, d, data), computeBackend).ToRowMajorArray();
                for (int i = 0; i < rows.Length; i++)
                {
                    for (int k = 0; k < c; k++)
                    {
                        sum[(rows[i] * c) + k] += f[(i * c) + k];
                    }
                }
            }
        }

        if (TreeCount > 1)
        {
            var trees = T.CreateTruncating(TreeCount);
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] /= trees;
            }
        }

        return Matrix<T>.Build.DenseOfRowMajor(m, c, sum);
    }

    /// <summary>Predicts the class (arg max of the averaged outputs) of each row.</summary>
    /// <param name="x">Inputs, m × d.</param>
    /// <param name="computeBackend">Optional backend.</param>
    /// <returns>Class indices.</returns>
    public int[] PredictClass(Matrix<T> x, IComputeBackend? computeBackend = null) => Data.OneHot.ArgMax(Predict(x, computeBackend));

    /// <summary>
    /// Saves the whole model (format in <c>docs/file-format.md</c>, tag <c>RFT1</c>: the routing, then every leaf's RFM)
    /// atomically: a temporary file in the same directory, flushed to disk and renamed over <paramref name="path"/>.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    /// <exception cref="NotSupportedException">A leaf's kernel is a user-defined type the format does not know.</exception>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the model to a stream.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    /// <exception cref="NotSupportedException">A leaf's kernel is a user-defined type the format does not know.</exception>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.RfmTreeTag, PrecisionExtensions.Of<T>(), w =>
    {
        Routing.WritePayload(w);
        w.Write(leaves.Length);
        foreach (var leaf in leaves)
        {
            leaf.WritePayload(w);
        }
    });

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not an RFM tree model of this precision, or a malformed one (the message says what is wrong).</exception>
    public static RfmTreeModel<T> Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a model from a stream.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not an RFM tree model of this precision, or malformed.</exception>
    public static RfmTreeModel<T> Load(Stream stream, IComputeBackend? computeBackend = null)
        => ModelFile.Load(stream, ModelFile.RfmTreeTag, PrecisionExtensions.Of<T>(), r =>
        {
            var routing = RfmTreeRouting.ReadPayload(r);
            long at = r.Position;
            int count = r.ReadCount("tree leaves", 1);
            if (count != routing.LeafCount)
            {
                throw ModelReader.Corrupt($"the routing has {routing.LeafCount} leaves but byte {at} announces {count} leaf models.");
            }

            var leaves = new RfmModel<T>[count];
            for (int i = 0; i < count; i++)
            {
                leaves[i] = RfmModel<T>.ReadPayload(r, computeBackend);
            }

            return Assemble(routing, leaves);
        });

    /// <inheritdoc />
    public override string ToString() =>
        $"RfmTreeModel<{typeof(T).Name}>: {TreeCount} tree(s), {leaves.Length} leaves of {leaves.Min(l => l.Predictor.TrainingCount)}–{leaves.Max(l => l.Predictor.TrainingCount)} training rows, d = {InputDimension}, c = {OutputDimension}";
}
