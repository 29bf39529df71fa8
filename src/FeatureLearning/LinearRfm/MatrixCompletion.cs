using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.LinearRfm;

/// <summary>
/// Low-rank matrix completion by lin-RFM (Radhakrishnan, Belkin, Drusvyatskiy): with P = M², each row i with observed
/// columns I_i is a ridge regression a_i = (P[I_i,I_i] + λI)⁻¹y_i, W_i = a_iᵀP[I_i,:] with the observed entries kept,
/// and M ← (WᵀW/n)^α. SVD-free: α = ½ needs no matrix root at all (P = WᵀW/n).
/// </summary>
/// <remarks>
/// Observations are sparse coordinates (<see cref="ObservedEntries"/>), grouped by row once. Rows that observe the same
/// columns form one group; the groups are the systems of one batched backend operation per iteration,
/// <see cref="IComputeBackend.BatchedRidgeSolve{T}"/>: each group's k × k system P[I,I] + λI is gathered, factored once and
/// solved for all of the group's rows at once. Per iteration: Σ_groups (k³/3 + k²m) for the
/// solves, Σ_i |I_i|·d for W, n·d² for WᵀW (the backend's SYRK), d³ more for α = 1. Memory: W (n × d), P and WᵀW (d × d);
/// no dense mask.
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

    /// <summary>Completes the matrix in double precision: <see cref="Fit{T}"/> with T = <see cref="double"/>.</summary>
    /// <param name="observed">The observed entries.</param>
    /// <param name="truth">Optional full truth: the error on every unobserved entry is then recorded per iteration as <see cref="LinearRfmIteration.UnobservedMse"/>.</param>
    /// <param name="progress">One report per iteration.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <returns>The completed matrix of the selected iteration.</returns>
    /// <exception cref="ArgumentException">As for <see cref="Fit{T}"/>.</exception>
    public MatrixCompletionModel<double> Fit(ObservedEntries observed, Matrix<double>? truth = null, IProgress<LinearRfmIteration>? progress = null, CancellationToken cancellationToken = default)
        => Fit<double>(observed, truth, progress, cancellationToken);

    /// <summary>Completes the matrix.</summary>
    /// <typeparam name="T">
    /// <see cref="float"/> or <see cref="double"/>: the precision of W, P and every backend operation (the row solves, WᵀW, the
    /// matrix power). The observed values (doubles in <see cref="ObservedEntries"/>) are converted to T once; the recorded errors
    /// are accumulated in double.
    /// </typeparam>
    /// <param name="observed">The observed entries.</param>
    /// <param name="truth">Optional full truth: the error on every unobserved entry is then recorded per iteration as <see cref="LinearRfmIteration.UnobservedMse"/>.</param>
    /// <param name="progress">One report per iteration.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <returns>
    /// The completed matrix of the selected iteration (<see cref="MatrixCompletionModel{T}.SelectedIteration"/>): the iterate with the
    /// best held-out error, refitted with every observed entry by one more step unless <see cref="MatrixCompletionOptions.RefitWithHeldOut"/>
    /// is false; the last iterate without a held-out set. The ridge schedule and the stopping rule are those of
    /// <see cref="MatrixCompletionOptions"/> (on the held-out error only).
    /// </returns>
    /// <exception cref="ArgumentException">
    /// No entries are observed (none left for training after the held-out split), the truth has the wrong shape, or a row or
    /// column has no training entry and <see cref="MatrixCompletionOptions.AllowEmptyRowsAndColumns"/> is false.
    /// </exception>
    /// <exception cref="ArithmeticException">A row system P[I,I] + λI is not positive definite in precision T (increase the ridge).</exception>
    public MatrixCompletionModel<T> Fit<T>(ObservedEntries observed, Matrix<T>? truth = null, IProgress<LinearRfmIteration>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
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
        var w = new T[(long)n * d];
        var spare = new T[(long)n * d];
        var best = (T[]?)null;
        int bestIteration = -1;
        double bestHeld = double.PositiveInfinity, ridge = Options.Ridge;
        var p = new T[(long)d * d];
        for (int j = 0; j < d; j++)
        {
            p[((long)j * d) + j] = T.One; // M = I
        }

        var history = new List<LinearRfmIteration>();
        var truthHost = truth?.ToRowMajorArray();
        using var wb = be.Allocate<T>(n, d);
        using var g = be.Allocate<T>(d, d);
        var stop = new StoppingRule(Options);
        double meanSquare = MeanSquare(observed);
        var bestNextP = held.Count > 0 && Options.RefitWithHeldOut ? new T[p.Length] : null;
        double floor = Math.Min(Options.Ridge, Options.MinimumRidge);
        for (int t = 0; t < Options.MaxIterations; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            double trainMse = SolveRows(be, rows, p, d, T.CreateTruncating(ridge), w);

            // P ← (WᵀW/n)^{2α}
            be.Upload<T>(w, wb);
            be.Syrk(Transpose.Transpose, T.One / T.CreateTruncating(n), wb, T.Zero, g);
            NextP(be, g, d, p);

            double heldMse = held.Count == 0 ? double.NaN : Mse(held, w, d);
            double unobservedMse = truthHost is null ? double.NaN : UnobservedMse(truthHost, observed, w, d);
            var record = new LinearRfmIteration(t, trainMse, heldMse, unobservedMse, double.NaN, ridge, clock.Elapsed.TotalSeconds);
            history.Add(record);
            progress?.Report(record);

            if (held.Count == 0 || heldMse < bestHeld)
            {
                bestHeld = held.Count == 0 ? bestHeld : heldMse;
                (best, w) = (w, best ?? spare);
                bestIteration = t;
                if (bestNextP is not null)
                {
                    p.AsSpan().CopyTo(bestNextP);
                }
            }

            if (held.Count == 0)
            {
                continue;
            }

            if (heldMse < Options.TargetHeldOutMse || (Options.RelativeTolerance > 0 && heldMse <= Options.RelativeTolerance * meanSquare))
            {
                break;
            }

            bool plateau = stop.Add(heldMse);
            double lowered = Math.Max(floor, ridge * Options.RidgeDecay);
            if (lowered < ridge && (heldMse < Options.RidgeDecayBelow || plateau))
            {
                // A new ridge is a new problem: the plateau test starts again from here.
                ridge = lowered;
                stop.Restart();
            }
            else if (plateau)
            {
                break;
            }
        }

        if (bestNextP is not null && best is not null)
        {
            // One more step with every observed entry: the held-out ones join the row systems and are kept in W.
            var clock = Stopwatch.StartNew();
            var all = RowIndex.Build(observed);
            var refit = w; // the buffer that is not the best iterate
            double trainMse = SolveRows(be, all, bestNextP, d, T.CreateTruncating(history[bestIteration].Ridge), refit);
            double unobservedMse = truthHost is null ? double.NaN : UnobservedMse(truthHost, observed, refit, d);
            var record = new LinearRfmIteration(history.Count, trainMse, double.NaN, unobservedMse, double.NaN, history[bestIteration].Ridge, clock.Elapsed.TotalSeconds);
            history.Add(record);
            progress?.Report(record);
            best = refit;
            bestIteration = record.Iteration;
        }

        if (best is null)
        {
            throw new ArithmeticException("lin-RFM: no iteration produced a finite held-out error (the completion diverged); increase the ridge or check the data.");
        }

        return new MatrixCompletionModel<T>(n, d, best, history, bestIteration);
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
    /// Solves every row on the backend: the groups of rows that observe the same columns are the systems of one
    /// <see cref="IComputeBackend.BatchedRidgeSolve{T}"/> (P uploaded, the packed right-hand sides, one column per row of a
    /// group, uploaded and the solutions downloaded), then W is formed on the host in parallel over groups. Returns the mean
    /// squared fit error of the training entries before they are kept.
    /// </summary>
    private static double SolveRows<T>(IComputeBackend be, RowIndex rows, T[] p, int d, T ridge, T[] w)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var batch = rows.Batch;
        var b = new T[batch.RightHandSideLength];
        for (int e = 0; e < b.Length; e++)
        {
            b[e] = T.CreateTruncating(rows.PackedValues[e]);
        }

        if (b.Length > 0)
        {
            using var pb = be.Upload<T>(p, d, d);
            using var bb = be.Upload<T>(b, 1, b.Length);
            try
            {
                be.BatchedRidgeSolve(pb, ridge, batch, bb);
            }
            catch (MatrixNotPositiveDefiniteException e)
            {
                throw new ArithmeticException($"lin-RFM: the system of row {rows.Groups[e.FailedSystem][0]} is not positive definite; increase the ridge.", e);
            }

            be.Download(bb, b);
        }

        // One sum per group, added in group order afterwards: the error is bit-reproducible whatever the thread schedule.
        var groupSse = new double[rows.Groups.Length];
        Parallel.For(0, rows.Groups.Length, gi =>
        {
            var group = rows.Groups[gi];
            int first = group[0], m = group.Length;
            int start = rows.Start[first], k = rows.Start[first + 1] - start;
            var cols = rows.Columns.AsSpan(start, k);
            var solution = b.AsSpan((int)batch.RightHandSideOffset(gi), k * m);
            for (int j = 0; j < m; j++)
            {
                // W_i = Σ_r a_r P[I_r, :], then the observed entries are kept.
                int i = group[j], rowStart = rows.Start[i];
                var row = w.AsSpan((int)((long)i * d), d);
                row.Clear();
                for (int r = 0; r < k; r++)
                {
                    TensorPrimitives.MultiplyAdd(p.AsSpan((int)((long)cols[r] * d), d), solution[(r * m) + j], row, row);
                }

                for (int r = 0; r < k; r++)
                {
                    double y = rows.Values[rowStart + r];
                    double diff = double.CreateTruncating(row[cols[r]]) - y;
                    groupSse[gi] += diff * diff;
                    row[cols[r]] = T.CreateTruncating(y);
                }
            }
        });
        double sse = 0;
        foreach (double v in groupSse)
        {
            sse += v;
        }

        return sse / Math.Max(1, rows.Columns.Length);
    }

    private void NextP<T>(IComputeBackend be, DeviceBuffer<T> g, int d, T[] p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Options.Alpha == 0.5)
        {
            be.Download(g, p);
            return;
        }

        if (Options.Alpha == 1.0)
        {
            using var p2 = be.Allocate<T>(d, d);
            be.Gemm(Transpose.None, Transpose.None, T.One, g, g, T.Zero, p2);
            be.Download(p2, p);
            return;
        }

        Rfm.MetricUpdate.PowerInPlace(be, g, 2 * Options.Alpha);
        be.Download(g, p);
    }

    private static double MeanSquare(ObservedEntries entries)
    {
        double sum = 0;
        foreach (double v in entries.Values)
        {
            sum += v * v;
        }

        return sum / entries.Count;
    }

    private static double Mse<T>(ObservedEntries entries, T[] w, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sse = 0;
        for (int e = 0; e < entries.Count; e++)
        {
            double diff = double.CreateTruncating(w[((long)entries.Rows[e] * d) + entries.Columns[e]]) - entries.Values[e];
            sse += diff * diff;
        }

        return sse / entries.Count;
    }

    /// <summary>Error on the unobserved entries: the error over all entries minus that over the observed ones (no mask).</summary>
    private static double UnobservedMse<T>(T[] truth, ObservedEntries observed, T[] w, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        const int chunk = 1 << 16;
        for (int start = 0; start < truth.Length; start += chunk)
        {
            int length = Math.Min(chunk, truth.Length - start);
            if (typeof(T) == typeof(double))
            {
                double norm = double.CreateTruncating(TensorPrimitives.Distance<T>(w.AsSpan(start, length), truth.AsSpan(start, length)));
                total += norm * norm;
            }
            else
            {
                for (int e = start; e < start + length; e++)
                {
                    double diff = double.CreateTruncating(w[e]) - double.CreateTruncating(truth[e]);
                    total += diff * diff;
                }
            }
        }

        double onObserved = 0;
        for (int e = 0; e < observed.Count; e++)
        {
            long at = ((long)observed.Rows[e] * d) + observed.Columns[e];
            double diff = double.CreateTruncating(w[at]) - double.CreateTruncating(truth[at]);
            onObserved += diff * diff;
        }

        return Math.Max(0, total - onObserved) / Math.Max(1, truth.LongLength - observed.Count);
    }

    /// <summary>
    /// The plateau test of the held-out error e_t, on its logarithm smoothed over a window of W =
    /// <see cref="MatrixCompletionOptions.Patience"/> iterations since the last restart: with A the mean of ln e over the older
    /// half of the window and B over the newer half, a plateau is B ≥ A + ln(1 − ε), ε =
    /// <see cref="MatrixCompletionOptions.MinimumRelativeImprovement"/>: the error fell by less than the fraction ε in W/2
    /// iterations (or rose). Averages, not the best value: a slow, steady descent after a transient rise (a lowered ridge
    /// makes one) goes on, and one lucky value does not stop the fit.
    /// </summary>
    private sealed class StoppingRule(MatrixCompletionOptions options)
    {
        private readonly List<double> logs = [];

        public void Restart() => logs.Clear();

        /// <summary>Records a held-out error; true when the errors since the last restart have reached a plateau.</summary>
        public bool Add(double heldOut)
        {
            logs.Add(Math.Log(Math.Max(heldOut, double.Epsilon)));
            int half = Math.Max(1, options.Patience / 2), c = logs.Count;
            if (c < 2 * half)
            {
                return false;
            }

            double older = 0, newer = 0;
            for (int i = 0; i < half; i++)
            {
                older += logs[c - (2 * half) + i];
                newer += logs[c - half + i];
            }

            return !(newer / half < (older / half) + Math.Log(1 - options.MinimumRelativeImprovement));
        }
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

        /// <summary>One system per group: its columns, and one right-hand side per row of the group.</summary>
        public required SmallSystemBatch Batch { get; init; }

        /// <summary>The observed values packed as the batch's right-hand sides (group g: k × m, column j the row group[j]).</summary>
        public required double[] PackedValues { get; init; }

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

            var grouped = groups.Values.Select(g => g.ToArray()).ToArray();
            var indices = new List<int>();
            var starts = new int[grouped.Length + 1];
            var counts = new int[grouped.Length];
            for (int g = 0; g < grouped.Length; g++)
            {
                int first = grouped[g][0];
                indices.AddRange(columns.AsSpan(start[first], start[first + 1] - start[first]));
                starts[g + 1] = indices.Count;
                counts[g] = grouped[g].Length;
            }

            var batch = new SmallSystemBatch(indices.ToArray(), starts, counts);
            var packed = new double[batch.RightHandSideLength];
            for (int g = 0; g < grouped.Length; g++)
            {
                int m = grouped[g].Length, k = batch.Order(g), at = (int)batch.RightHandSideOffset(g);
                for (int j = 0; j < m; j++)
                {
                    for (int r = 0; r < k; r++)
                    {
                        packed[at + (r * m) + j] = values[start[grouped[g][j]] + r];
                    }
                }
            }

            return new RowIndex { RowCount = n, Start = start, Columns = columns, Values = values, Groups = grouped, Batch = batch, PackedValues = packed };
        }
    }
}
