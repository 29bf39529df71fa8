using System.Diagnostics;
using System.Numerics.Tensors;
using FeatureLearning.Compute;
using FeatureLearning.Compute.Managed;
using FeatureLearning.Data;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.LinearRfm;

/// <summary>
/// Low-rank matrix completion by lin-RFM (Radhakrishnan, Belkin, Drusvyatskiy): with P = M², each row i with observed
/// columns I_i is a ridge regression a_i = (P[I_i,I_i] + λI)⁻¹y_i, W_i = a_iᵀP[I_i,:] with the observed entries kept,
/// and M ← (WᵀW/n)^α. SVD-free: α = ½ needs no matrix root at all (P = WᵀW/n).
/// </summary>
/// <remarks>
/// Observations are sparse coordinates (<see cref="ObservedEntries"/>), grouped by row once; rows are solved in
/// parallel, each a small Cholesky of order |I_i|, and rows that observe the same columns share one factorization. Per iteration: Σ_i (|I_i|³/3 + |I_i|·d) for the rows, n·d² for WᵀW
/// (the backend's SYRK), d³ more for α = 1. Memory: W (n × d), P and WᵀW (d × d); no dense mask.
/// </remarks>
public sealed class MatrixCompletion
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">Options; validated here.</param>
    public MatrixCompletion(MatrixCompletionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public MatrixCompletionOptions Options { get; }

    /// <summary>Completes the matrix.</summary>
    /// <param name="observed">The observed entries.</param>
    /// <param name="truth">Optional full truth: the error on every unobserved entry is then recorded per iteration.</param>
    /// <param name="progress">One report per iteration.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <returns>The completed matrix of the iteration with the best held-out error (the last without a held-out set).</returns>
    /// <exception cref="ArgumentException">
    /// No entries are observed (none left for training after the held-out split), the truth has the wrong shape, or a row or
    /// column has no training entry and <see cref="MatrixCompletionOptions.AllowEmptyRowsAndColumns"/> is false.
    /// </exception>
    public MatrixCompletionModel Fit(ObservedEntries observed, Matrix<double>? truth = null, IProgress<LinearRfmIteration>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(observed);
        int n = observed.RowCount, d = observed.ColumnCount;
        if (truth is not null && (truth.RowCount != n || truth.ColumnCount != d))
        {
            throw new ArgumentException($"The truth must be {n} x {d}.", nameof(truth));
        }

        if (observed.Count == 0)
        {
            throw new ArgumentException($"No entries of the {n} x {d} matrix are observed: there is nothing to complete from.", nameof(observed));
        }

        var be = Options.Backend ?? ComputeBackends.Default;
        var order = Enumerable.Range(0, observed.Count).ToArray();
        new Random(Options.Seed).Shuffle(order);
        int heldCount = (int)Math.Round(Options.HeldOutFraction * observed.Count);
        var held = observed.Subset(order[..heldCount]);
        var train = observed.Subset(order[heldCount..]);
        CheckCoverage(observed, train);
        var rows = RowIndex.Build(train);

        // Two W buffers alternate: the best iterate is kept by reference, and the next iterate is written into the other.
        var w = new double[(long)n * d];
        var spare = new double[(long)n * d];
        var best = (double[]?)null;
        int bestIteration = -1;
        double bestHeld = double.PositiveInfinity, ridge = Options.Ridge;
        var p = new double[(long)d * d];
        for (int j = 0; j < d; j++)
        {
            p[((long)j * d) + j] = 1; // M = I
        }

        var history = new List<LinearRfmIteration>();
        var truthHost = truth?.ToRowMajorArray();
        using var wb = be.Allocate<double>(n, d);
        using var g = be.Allocate<double>(d, d);
        int sinceBest = 0;
        for (int t = 0; t < Options.Iterations; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            double trainMse = SolveRows(rows, p, d, ridge, w);

            // P ← (WᵀW/n)^{2α}
            be.Upload<double>(w, wb);
            be.Syrk(Transpose.Transpose, 1.0 / n, wb, 0.0, g);
            NextP(be, g, d, p);

            double heldMse = held.Count == 0 ? double.NaN : Mse(held, w, d);
            double testMse = truthHost is null ? double.NaN : UnobservedMse(truthHost, observed, w, d);
            var record = new LinearRfmIteration(t, trainMse, heldMse, testMse, ridge, clock.Elapsed.TotalSeconds);
            history.Add(record);
            progress?.Report(record);

            if (held.Count == 0 || heldMse < bestHeld)
            {
                bestHeld = held.Count == 0 ? bestHeld : heldMse;
                (best, w) = (w, best ?? spare);
                bestIteration = t;
                sinceBest = 0;
            }
            else if (++sinceBest >= Options.Patience)
            {
                break;
            }

            if (heldMse < Options.TargetHeldOutMse)
            {
                break;
            }

            if (heldMse < Options.RidgeDecayBelow)
            {
                ridge = Math.Max(Options.MinimumRidge, ridge * Options.RidgeDecay);
            }
        }

        return new MatrixCompletionModel(Matrix<double>.Build.DenseOfRowMajor(n, d, best!), history, bestIteration);
    }

    /// <summary>
    /// Throws when the training split is empty, or (unless <see cref="MatrixCompletionOptions.AllowEmptyRowsAndColumns"/>)
    /// when a row or column has no training entry: its completion would be silently zero.
    /// </summary>
    private void CheckCoverage(ObservedEntries observed, ObservedEntries train)
    {
        if (train.Count == 0)
        {
            throw new ArgumentException($"All {observed.Count} observed entries were held out (HeldOutFraction = {Options.HeldOutFraction}): none are left to fit.", nameof(observed));
        }

        if (Options.AllowEmptyRowsAndColumns)
        {
            return;
        }

        foreach (var (lines, trainIndex, observedIndex, what) in new[]
        {
            (observed.RowCount, train.Rows, observed.Rows, "Row"),
            (observed.ColumnCount, train.Columns, observed.Columns, "Column"),
        })
        {
            var counts = new int[lines];
            foreach (int i in trainIndex)
            {
                counts[i]++;
            }

            int empty = Array.IndexOf(counts, 0);
            if (empty >= 0)
            {
                int seen = observedIndex.Count(i => i == empty);
                string why = seen == 0 ? "is never observed" : $"has no training entry (its {seen} observed entr{(seen == 1 ? "y was" : "ies were")} held out; lower HeldOutFraction)";
                throw new ArgumentException(
                    $"{what} {empty} of the {observed.RowCount} x {observed.ColumnCount} matrix {why}: its completion would be all zeros. Observe it, or set MatrixCompletionOptions.AllowEmptyRowsAndColumns to accept zeros there.",
                    nameof(observed));
            }
        }
    }

    /// <summary>
    /// Solves every row, in parallel over groups of rows that observe the same columns: each group factors
    /// P[I,I] + λI once and solves one right-hand side per row. Returns the mean squared fit error of the training
    /// entries before they are kept.
    /// </summary>
    private static unsafe double SolveRows(RowIndex rows, double[] p, int d, double ridge, double[] w)
    {
        // One sum per group, added in group order afterwards: the error is bit-reproducible whatever the thread schedule.
        var groupSse = new double[rows.Groups.Length];
        Parallel.For(0, rows.Groups.Length, () => (Scratch: new double[16], Rhs: new double[4]), (gi, _, local) =>
        {
            var group = rows.Groups[gi];
            int first = group[0];
            int start = rows.Start[first], k = rows.Start[first + 1] - start;
            foreach (int i in group)
            {
                w.AsSpan((int)((long)i * d), d).Clear();
            }

            if (k == 0)
            {
                return local;
            }

            if (local.Scratch.Length < k * k)
            {
                local.Scratch = new double[k * k];
                local.Rhs = new double[k];
            }

            var cols = rows.Columns.AsSpan(start, k);
            var a = local.Scratch.AsSpan(0, k * k);
            for (int r = 0; r < k; r++)
            {
                long pr = (long)cols[r] * d;
                for (int c = 0; c < k; c++)
                {
                    a[(r * k) + c] = p[pr + cols[c]];
                }

                a[(r * k) + r] += ridge;
            }

            fixed (double* pa = local.Scratch, pb = local.Rhs)
            {
                if (BlockedCholesky<double>.Factor(pa, k, k, 1, CancellationToken.None) >= 0)
                {
                    throw new ArithmeticException($"lin-RFM: the system of row {first} is not positive definite; increase the ridge.");
                }

                foreach (int i in group)
                {
                    int rowStart = rows.Start[i];
                    for (int r = 0; r < k; r++)
                    {
                        local.Rhs[r] = rows.Values[rowStart + r];
                    }

                    BlockedCholesky<double>.Solve(pa, k, k, pb, 1, 1, 1);

                    // W_i = Σ_t a_t P[I_t, :], then the observed entries are kept.
                    var row = w.AsSpan((int)((long)i * d), d);
                    for (int r = 0; r < k; r++)
                    {
                        TensorPrimitives.MultiplyAdd(p.AsSpan((int)((long)cols[r] * d), d), local.Rhs[r], row, row);
                    }

                    for (int r = 0; r < k; r++)
                    {
                        double y = rows.Values[rowStart + r];
                        groupSse[gi] += (row[cols[r]] - y) * (row[cols[r]] - y);
                        row[cols[r]] = y;
                    }
                }
            }

            return local;
        }, _ => { });
        double sse = 0;
        foreach (double v in groupSse)
        {
            sse += v;
        }

        return sse / Math.Max(1, rows.Columns.Length);
    }

    private void NextP(IComputeBackend be, DeviceBuffer<double> g, int d, double[] p)
    {
        if (Options.Alpha == 0.5)
        {
            be.Download(g, p);
            return;
        }

        if (Options.Alpha == 1.0)
        {
            using var p2 = be.Allocate<double>(d, d);
            be.Gemm(Transpose.None, Transpose.None, 1.0, g, g, 0.0, p2);
            be.Download(p2, p);
            return;
        }

        using var values = be.Allocate<double>(d, 1);
        using var vectors = be.Allocate<double>(d, d);
        be.SymmetricEigen(g, values, vectors);
        var lambda = new double[d];
        be.Download(values, lambda);
        using var powered = be.Upload<double>(lambda.Select(l => Math.Pow(Math.Max(l, 0), 2 * Options.Alpha)).ToArray(), 1, d);
        using var scaled = be.Allocate<double>(d, d);
        be.Copy(vectors, scaled);
        be.ScaleColumns(scaled, powered);
        be.Gemm(Transpose.None, Transpose.Transpose, 1.0, scaled, vectors, 0.0, g);
        be.Download(g, p);
    }

    private static double Mse(ObservedEntries entries, double[] w, int d)
    {
        double sse = 0;
        for (int e = 0; e < entries.Count; e++)
        {
            double diff = w[((long)entries.Rows[e] * d) + entries.Columns[e]] - entries.Values[e];
            sse += diff * diff;
        }

        return sse / entries.Count;
    }

    /// <summary>Error on the unobserved entries: the error over all entries minus that over the observed ones (no mask).</summary>
    private static double UnobservedMse(double[] truth, ObservedEntries observed, double[] w, int d)
    {
        double total = 0;
        const int chunk = 1 << 16;
        for (int start = 0; start < truth.Length; start += chunk)
        {
            int length = Math.Min(chunk, truth.Length - start);
            double norm = TensorPrimitives.Distance<double>(w.AsSpan(start, length), truth.AsSpan(start, length));
            total += norm * norm;
        }

        double onObserved = Mse(observed, w, d) * observed.Count;
        return Math.Max(0, total - onObserved) / Math.Max(1, truth.LongLength - observed.Count);
    }

    /// <summary>Training entries grouped by row (compressed sparse rows, columns sorted), and rows grouped by their column set.</summary>
    private sealed class RowIndex
    {
        public required int RowCount { get; init; }

        public required int[] Start { get; init; }

        public required int[] Columns { get; init; }

        public required double[] Values { get; init; }

        /// <summary>Rows that observe exactly the same columns share one factorization.</summary>
        public required int[][] Groups { get; init; }

        public static RowIndex Build(ObservedEntries entries)
        {
            int n = entries.RowCount;
            var start = new int[n + 1];
            foreach (int r in entries.Rows)
            {
                start[r + 1]++;
            }

            for (int i = 0; i < n; i++)
            {
                start[i + 1] += start[i];
            }

            var next = (int[])start.Clone();
            var columns = new int[entries.Count];
            var values = new double[entries.Count];
            for (int e = 0; e < entries.Count; e++)
            {
                int slot = next[entries.Rows[e]]++;
                columns[slot] = entries.Columns[e];
                values[slot] = entries.Values[e];
            }

            var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (int i = 0; i < n; i++)
            {
                Array.Sort(columns, values, start[i], start[i + 1] - start[i]);
                string key = string.Join(',', columns.AsSpan(start[i], start[i + 1] - start[i]).ToArray());
                if (!groups.TryGetValue(key, out var members))
                {
                    groups[key] = members = [];
                }

                members.Add(i);
            }

            return new RowIndex { RowCount = n, Start = start, Columns = columns, Values = values, Groups = groups.Values.Select(g => g.ToArray()).ToArray() };
        }
    }
}

/// <summary>A completed matrix and the history of the iterations.</summary>
public sealed class MatrixCompletionModel
{
    internal MatrixCompletionModel(Matrix<double> completed, IReadOnlyList<LinearRfmIteration> history, int bestIteration)
    {
        completedMatrix = completed;
        History = history.ToArray();
        BestIteration = bestIteration;
    }

    private readonly Matrix<double> completedMatrix;

    /// <summary>The completed matrix W (observed training entries kept as given), a copy.</summary>
    public Matrix<double> Completed => completedMatrix.Clone();

    /// <summary>One record per iteration.</summary>
    public IReadOnlyList<LinearRfmIteration> History { get; }

    /// <summary>The iteration whose W this is.</summary>
    public int BestIteration { get; }
}
