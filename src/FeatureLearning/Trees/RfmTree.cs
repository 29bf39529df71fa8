using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.ExceptionServices;
using FeatureLearning.Compute;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Trees;

/// <summary>
/// A tree of Recursive Feature Machines in the manner of xRFM (Beaglehole et al. 2025): at each node an RFM is fitted on a
/// seeded sample of the node's rows, the rows are projected on the top eigenvector of its feature matrix M (the direction
/// the target varies most along) and divided at the median projection; a node with at most
/// <see cref="RfmTreeOptions.MaxLeafSize"/> rows is a leaf and gets its own RFM, with its own validation split and round
/// selection. A point is predicted by the RFM of the leaf it is routed to; several trees built with different seeds are
/// averaged. Each leaf's kernel solve is on at most <c>MaxLeafSize</c> rows, so the cost grows like n·MaxLeafSize² instead of n³,
/// and a leaf learns the features that matter in its own part of the input space.
/// </summary>
/// <remarks>
/// <para>The fit has two steps that can run apart: <see cref="Plan{T}"/> builds the splits (the routing) and assigns the
/// training rows to leaves; <see cref="FitLeaf{T}"/> fits one leaf from its rows alone, so leaves can be fitted as separate
/// jobs (Slurm job arrays, Kubernetes indexed Jobs: see <c>samples/TreeFit</c> and <c>docs/scale.md</c>);
/// <see cref="RfmTreeModel{T}.Assemble"/> joins them. <see cref="Fit{T}"/> does the three in this process and gives the same
/// model as the three steps run apart with the same options on the same kind of backend (each leaf depends only on its
/// rows, the options and its index).</para>
/// <para>Leaves are fitted one after another, each with all the backend's threads, or up to
/// <see cref="RfmTreeOptions.MaxParallelLeaves"/> at a time on a CPU backend; always one after another on a GPU backend.</para>
/// </remarks>
/// <example>
/// <code>
/// var tree = new RfmTree(new RfmTreeOptions { MaxLeafSize = 5_000, LeafRfm = new RfmOptions { Rounds = 5 }, Seed = 1 });
/// RfmTreeModel&lt;double&gt; model = tree.Fit(x, y, new Progress&lt;RfmTreeProgress&gt;(Console.WriteLine));
/// Matrix&lt;double&gt; prediction = model.Predict(xTest);
/// model.Save("tree.flm");
/// </code>
/// </example>
public sealed class RfmTree
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">The options; validated here.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public RfmTree(RfmTreeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public RfmTreeOptions Options { get; }

    /// <summary>Builds the trees and fits every leaf: <see cref="Plan{T}"/>, <see cref="FitLeaf{T}"/> for each leaf, and <see cref="RfmTreeModel{T}.Assemble"/>.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of every RFM.</typeparam>
    /// <param name="x">Training inputs, n × d.</param>
    /// <param name="y">Training targets, n × c (one-hot rows for classification).</param>
    /// <param name="progress">Receives a report per split and per fitted leaf (leaf i of L). <see cref="Progress{T}"/> posts to the thread pool, so reports may arrive late and out of order.</param>
    /// <param name="cancellationToken">Checked at every node, between leaves and inside each RFM.</param>
    /// <returns>The immutable fitted model.</returns>
    /// <exception cref="ArgumentException">Empty data, NaN/∞, mismatched shapes.</exception>
    /// <exception cref="ArithmeticException">A split or leaf RFM failed numerically.</exception>
    public RfmTreeModel<T> Fit<T>(Matrix<T> x, Matrix<T> y, IProgress<RfmTreeProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = Plan(x, y, progress, cancellationToken);
        int d = x.ColumnCount, c = y.ColumnCount, leaves = plan.LeafCount;
        var xHost = x.ToRowMajorArray();
        var yHost = y.ToRowMajorArray();
        var models = new RfmModel<T>[leaves];
        var backend = Options.LeafRfm.Backend ?? ComputeBackends.Default;
        int parallel = backend is CpuBackend ? Math.Min(Options.MaxParallelLeaves, leaves) : 1;
        int completed = 0;

        void FitOne(int leaf)
        {
            var rows = plan.Rows(leaf);
            var clock = Stopwatch.StartNew();
            var model = FitLeaf(leaf, Gather(xHost, rows, d), Gather(yHost, rows, c), cancellationToken);
            models[leaf] = model;
            int done = Interlocked.Increment(ref completed);
            progress?.Report(new RfmTreeProgress(
                RfmTreeStage.Leaf, plan.Routing.TreeOfLeaf(leaf), leaf, leaves, done, rows.Length, model.SelectedIteration,
                model.History[model.SelectedIteration].ValidationMse, clock.Elapsed.TotalSeconds));
        }

        if (parallel <= 1)
        {
            for (int leaf = 0; leaf < leaves; leaf++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                FitOne(leaf);
            }
        }
        else
        {
            // Largest leaves first, handed out one at a time, so that the last leaves to start are short.
            var order = Enumerable.Range(0, leaves).OrderByDescending(l => plan.Rows(l).Length).ThenBy(l => l).ToArray();
            try
            {
                Parallel.ForEach(Partitioner.Create(order, EnumerablePartitionerOptions.NoBuffering), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, FitOne);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
            {
                var first = e.InnerExceptions.FirstOrDefault(inner => inner is not OperationCanceledException) ?? e.InnerExceptions[0];
                ExceptionDispatchInfo.Capture(first).Throw();
                throw;
            }
        }

        return RfmTreeModel<T>.Assemble(plan.Routing, models);
    }

    /// <summary>
    /// Builds the splits of every tree and assigns each training row to one leaf per tree. Each split fits an RFM
    /// (<see cref="RfmTreeOptions.SplitRfm"/>) on at most <see cref="RfmTreeOptions.SplitSampleSize"/> seeded rows of its node.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="x">Training inputs, n × d.</param>
    /// <param name="y">Training targets, n × c.</param>
    /// <param name="progress">Receives a report per split.</param>
    /// <param name="cancellationToken">Checked at every node and inside each split RFM.</param>
    /// <returns>The plan: the routing and the rows of every leaf.</returns>
    /// <exception cref="ArgumentException">Empty data, NaN/∞, mismatched shapes.</exception>
    public RfmTreePlan Plan<T>(Matrix<T> x, Matrix<T> y, IProgress<RfmTreeProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        Validation.TrainingData(x, y, Kernels.Metric.Identity);
        var builder = new Builder<T>(this, x, y, progress, cancellationToken);
        return builder.Build();
    }

    /// <summary>
    /// Fits the RFM of one leaf (<see cref="RfmTreeOptions.LeafRfm"/>) on its rows, holding out
    /// <see cref="RfmTreeOptions.ValidationFraction"/> of them (seeded by <see cref="RfmTreeOptions.Seed"/> and
    /// <paramref name="leaf"/>) to choose the round. Depends on nothing but the options, the leaf index and the rows, so a
    /// separate process fitting the same rows gets the same model.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="leaf">The leaf's index in the plan (it seeds the validation split).</param>
    /// <param name="x">The leaf's inputs: the rows <see cref="RfmTreePlan.LeafRows"/> names, in that order.</param>
    /// <param name="y">The leaf's targets, likewise.</param>
    /// <param name="cancellationToken">Checked inside the RFM.</param>
    /// <returns>The leaf's fitted RFM.</returns>
    /// <exception cref="ArgumentException">A negative leaf index, empty data, NaN/∞, mismatched shapes.</exception>
    public RfmModel<T> FitLeaf<T>(int leaf, Matrix<T> x, Matrix<T> y, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leaf);
        Validation.TrainingData(x, y, Kernels.Metric.Identity);
        int n = x.RowCount;
        int nv = (int)Math.Round(Options.ValidationFraction * n);
        var rfm = new RecursiveFeatureMachine(Options.LeafRfm);
        if (nv < 1 || n - nv < 1)
        {
            return rfm.Fit(x, y, cancellationToken: cancellationToken);
        }

        var order = Enumerable.Range(0, n).ToArray();
        new Random(Seed(Options.Seed, 0x1eaf, (ulong)leaf)).Shuffle(order);
        var validation = order[..nv];
        var train = order[nv..];
        Array.Sort(validation);
        Array.Sort(train);
        return rfm.Fit(Rows(x, train), Rows(y, train), (Rows(x, validation), Rows(y, validation)), cancellationToken: cancellationToken);
    }

    /// <summary>A seed mixed from the options' seed and two numbers (SplitMix64 finaliser): the same in every process.</summary>
    internal static int Seed(int seed, ulong a, ulong b)
    {
        ulong z = unchecked((ulong)(uint)seed + (0x9E3779B97F4A7C15UL * (a + 1)) + (0xBF58476D1CE4E5B9UL * (b + 1)));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private static Matrix<T> Rows<T>(Matrix<T> m, int[] rows)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Gather(m.ToRowMajorArray(), rows, m.ColumnCount);

    private static Matrix<T> Gather<T>(T[] host, int[] rows, int columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = new T[rows.Length * columns];
        for (int i = 0; i < rows.Length; i++)
        {
            host.AsSpan(rows[i] * columns, columns).CopyTo(data.AsSpan(i * columns, columns));
        }

        return Matrix<T>.Build.DenseOfRowMajor(rows.Length, columns, data);
    }

    /// <summary>Builds the trees depth first, left before right: nodes numbered before their children, leaves in order.</summary>
    private sealed class Builder<T>(RfmTree owner, Matrix<T> x, Matrix<T> y, IProgress<RfmTreeProgress>? progress, CancellationToken ct)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly RfmTreeOptions o = owner.Options;
        private readonly T[] xHost = x.ToRowMajorArray();
        private readonly T[] yHost = y.ToRowMajorArray();
        private readonly int d = x.ColumnCount;
        private readonly int c = y.ColumnCount;
        private readonly List<int> left = [];
        private readonly List<int> right = [];
        private readonly List<double> thresholds = [];
        private readonly List<double> directions = [];
        private readonly List<int[]> leaves = [];
        private int splits;

        public RfmTreePlan Build()
        {
            var all = Enumerable.Range(0, x.RowCount).ToArray();
            var roots = new int[o.Trees];
            for (int t = 0; t < o.Trees; t++)
            {
                splits = 0;
                roots[t] = Node(t, all, 0, 1);
            }

            var routing = new RfmTreeRouting(d, roots, left.ToArray(), right.ToArray(), thresholds.ToArray(), directions.ToArray());
            return new RfmTreePlan(routing, leaves.ToArray());
        }

        /// <summary>Builds the subtree of the node <paramref name="key"/> (heap numbering: root 1, children 2k and 2k + 1); returns its index or ~leaf.</summary>
        private int Node(int tree, int[] rows, int depth, ulong key)
        {
            ct.ThrowIfCancellationRequested();
            if (rows.Length <= o.MaxLeafSize || depth >= o.MaxDepth)
            {
                return Leaf(rows);
            }

            var clock = Stopwatch.StartNew();
            var (direction, selected) = SplitDirection(rows, Seed(o.Seed, (ulong)tree, key));
            var projections = rows.Select(i => RfmTreeRouting.Project<T>(xHost.AsSpan(i * d, d), direction)).ToArray();
            var sorted = projections.ToArray();
            Array.Sort(sorted);
            int k = rows.Length / 2;
            double threshold = sorted[k - 1] + ((sorted[k] - sorted[k - 1]) / 2);
            var leftRows = rows.Where((_, i) => projections[i] <= threshold).ToArray();
            var rightRows = rows.Where((_, i) => projections[i] > threshold).ToArray();
            if (leftRows.Length == 0 || rightRows.Length == 0)
            {
                return Leaf(rows);
            }

            int node = left.Count;
            left.Add(0);
            right.Add(0);
            thresholds.Add(threshold);
            directions.AddRange(direction);
            progress?.Report(new RfmTreeProgress(RfmTreeStage.Split, tree, -1, 0, ++splits, rows.Length, selected, double.NaN, clock.Elapsed.TotalSeconds));
            left[node] = Node(tree, leftRows, depth + 1, 2 * key);
            right[node] = Node(tree, rightRows, depth + 1, (2 * key) + 1);
            return node;
        }

        private int Leaf(int[] rows)
        {
            leaves.Add(rows);
            return ~(leaves.Count - 1);
        }

        /// <summary>The unit top eigenvector of the split RFM's M, its largest-magnitude entry made positive.</summary>
        private (double[] Direction, int Round) SplitDirection(int[] rows, int seed)
        {
            int m = Math.Min(o.SplitSampleSize, rows.Length);
            var sample = SeededSample.Indices(rows.Length, m, seed).Select(i => rows[i]).ToArray();
            var model = new RecursiveFeatureMachine(o.SplitRfm).Fit(Gather(xHost, sample, d), Gather(yHost, sample, c), cancellationToken: ct);
            var (values, vectors) = HostEigen.Decompose<double>(model.FeatureMatrix.ToRowMajorArray(), d);
            _ = values;
            var v = new double[d];
            int top = d - 1, biggest = 0;
            for (int j = 0; j < d; j++)
            {
                v[j] = vectors[(j * d) + top];
                if (Math.Abs(v[j]) > Math.Abs(v[biggest]))
                {
                    biggest = j;
                }
            }

            double norm = Math.Sqrt(v.Sum(e => e * e)) * (v[biggest] < 0 ? -1 : 1);
            for (int j = 0; j < d; j++)
            {
                v[j] /= norm;
            }

            return (v, model.SelectedIteration);
        }
    }
}
