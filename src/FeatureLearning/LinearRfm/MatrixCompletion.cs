using System.Buffers;
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
/// columns form one group; groups are solved in parallel, each through the backend: its k × k system P[I,I] + λI is factored
/// once and solved for all of the group's rows at once (one <see cref="IComputeBackend.CholeskyFactor{T}"/> and one
/// <see cref="IComputeBackend.CholeskySolve{T}"/> with m right-hand sides). Per iteration: Σ_groups (k³/3 + k²m) for the
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
    /// The completed matrix of the selected iteration (<see cref="MatrixCompletionModel{T}.SelectedIteration"/>): the one with the best
    /// held-out error, or the last without a held-out set.
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
        int sinceBest = 0;
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

        return new MatrixCompletionModel<T>(n, d, best!, history, bestIteration);
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
    /// Solves every row on the backend, in parallel over groups of rows that observe the same columns: each group gathers
    /// its k × k system P[I,I] + λI and its k × m right-hand sides (one column per row of the group) into device buffers,
    /// factors once (<see cref="IComputeBackend.CholeskyFactor{T}"/>, no jitter) and solves all m at once
    /// (<see cref="IComputeBackend.CholeskySolve{T}"/>). Returns the mean squared fit error of the training entries before
    /// they are kept.
    /// </summary>
    private static double SolveRows<T>(IComputeBackend be, RowIndex rows, T[] p, int d, T ridge, T[] w)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // One sum per group, added in group order afterwards: the error is bit-reproducible whatever the thread schedule.
        var groupSse = new double[rows.Groups.Length];
        Parallel.For(0, rows.Groups.Length, gi =>
        {
            var group = rows.Groups[gi];
            int first = group[0], m = group.Length;
            int start = rows.Start[first], k = rows.Start[first + 1] - start;
            foreach (int i in group)
            {
                w.AsSpan((int)((long)i * d), d).Clear();
            }

            if (k == 0)
            {
                return;
            }

            var cols = rows.Columns.AsSpan(start, k);
            var system = ArrayPool<T>.Shared.Rent(k * k);
            var rhs = ArrayPool<T>.Shared.Rent(k * m);
            try
            {
                var a = system.AsSpan(0, k * k);
                for (int r = 0; r < k; r++)
                {
                    long pr = (long)cols[r] * d;
                    for (int c = 0; c < k; c++)
                    {
                        a[(r * k) + c] = p[pr + cols[c]];
                    }

                    a[(r * k) + r] += ridge;
                }

                var b = rhs.AsSpan(0, k * m);
                for (int j = 0; j < m; j++)
                {
                    int rowStart = rows.Start[group[j]];
                    for (int r = 0; r < k; r++)
                    {
                        b[(r * m) + j] = T.CreateTruncating(rows.Values[rowStart + r]);
                    }
                }

                using (var ab = be.Upload<T>(a, k, k))
                using (var bb = be.Upload<T>(b, k, m))
                {
                    try
                    {
                        be.CholeskyFactor(ab, CholeskyOptions.NoJitter);
                    }
                    catch (MatrixNotPositiveDefiniteException e)
                    {
                        throw new ArithmeticException($"lin-RFM: the system of row {first} is not positive definite; increase the ridge.", e);
                    }

                    be.CholeskySolve(ab, bb);
                    be.Download(bb, b);
                }

                for (int j = 0; j < m; j++)
                {
                    // W_i = Σ_r a_r P[I_r, :], then the observed entries are kept.
                    int i = group[j], rowStart = rows.Start[i];
                    var row = w.AsSpan((int)((long)i * d), d);
                    for (int r = 0; r < k; r++)
                    {
                        TensorPrimitives.MultiplyAdd(p.AsSpan((int)((long)cols[r] * d), d), b[(r * m) + j], row, row);
                    }

                    for (int r = 0; r < k; r++)
                    {
                        double y = rows.Values[rowStart + r];
                        double diff = double.CreateTruncating(row[cols[r]]) - y;
                        groupSse[gi] += diff * diff;
                        row[cols[r]] = T.CreateTruncating(y);
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(system);
                ArrayPool<T>.Shared.Return(rhs);
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
