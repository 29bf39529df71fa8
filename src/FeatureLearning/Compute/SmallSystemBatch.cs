using System.Numerics;

namespace FeatureLearning.Compute;

/// <summary>
/// The layout of a batch of small symmetric positive definite systems (P[I_s, I_s] + λI) X_s = B_s for
/// <see cref="IComputeBackend.BatchedRidgeSolve{T}"/>: system s gathers the rows and columns
/// I_s = <c>Indices[Starts[s] .. Starts[s + 1]]</c> of a square matrix P, so its order is k_s = |I_s|, and it has
/// m_s = <c>RightHandSides[s]</c> right-hand sides. Systems of different orders mix freely.
/// </summary>
/// <remarks>
/// The right-hand sides are packed into one contiguous buffer: B_s is the k_s × m_s row-major block starting at
/// <see cref="RightHandSideOffset"/>(s) = Σ_{r &lt; s} k_r·m_r. The layout is validated once here and may be reused for any
/// number of solves (an iterative algorithm keeps it across iterations); it is immutable (the arrays are copied).
/// </remarks>
public sealed class SmallSystemBatch
{
    private readonly int[] indices;
    private readonly int[] starts;
    private readonly int[] rightHandSides;
    private readonly long[] rhsOffsets;
    private readonly long[] factorOffsets;

    /// <summary>Creates and validates the layout.</summary>
    /// <param name="indices">The row/column indices of every system, concatenated; each ≥ 0 (checked against P when solving).</param>
    /// <param name="starts">S + 1 offsets into <paramref name="indices"/>: 0 first, non-decreasing, <paramref name="indices"/>.Length last.</param>
    /// <param name="rightHandSides">S counts m_s ≥ 0 of right-hand sides, one per system.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The offsets, the counts or an index are invalid (the message names which).</exception>
    public SmallSystemBatch(ReadOnlySpan<int> indices, ReadOnlySpan<int> starts, ReadOnlySpan<int> rightHandSides)
    {
        if (starts.Length < 1 || starts[0] != 0 || starts[^1] != indices.Length)
        {
            throw new ArgumentException($"The starts must begin with 0 and end with the number of indices ({indices.Length}); got {starts.Length} value(s).", nameof(starts));
        }

        int count = starts.Length - 1;
        if (rightHandSides.Length != count)
        {
            throw new ArgumentException($"There are {count} systems (starts has {starts.Length} values) but {rightHandSides.Length} right-hand-side counts.", nameof(rightHandSides));
        }

        rhsOffsets = new long[count + 1];
        factorOffsets = new long[count + 1];
        for (int s = 0; s < count; s++)
        {
            int k = starts[s + 1] - starts[s];
            if (k < 0)
            {
                throw new ArgumentException($"The starts decrease at system {s} ({starts[s]} then {starts[s + 1]}).", nameof(starts));
            }

            if (rightHandSides[s] < 0)
            {
                throw new ArgumentException($"System {s} has a negative number of right-hand sides ({rightHandSides[s]}).", nameof(rightHandSides));
            }

            MaxOrder = Math.Max(MaxOrder, k);
            rhsOffsets[s + 1] = rhsOffsets[s] + ((long)k * rightHandSides[s]);
            factorOffsets[s + 1] = factorOffsets[s] + ((long)k * k);
        }

        MaxIndex = -1;
        for (int e = 0; e < indices.Length; e++)
        {
            if (indices[e] < 0)
            {
                throw new ArgumentException($"Index {e} is negative ({indices[e]}).", nameof(indices));
            }

            MaxIndex = Math.Max(MaxIndex, indices[e]);
        }

        this.indices = indices.ToArray();
        this.starts = starts.ToArray();
        this.rightHandSides = rightHandSides.ToArray();
    }

    /// <summary>The number of systems S.</summary>
    public int Count => rightHandSides.Length;

    /// <summary>The largest order k_s (0 for an empty batch).</summary>
    public int MaxOrder { get; }

    /// <summary>The largest index into P (−1 when there are none).</summary>
    public int MaxIndex { get; }

    /// <summary>The length Σ k_s·m_s of the packed right-hand sides.</summary>
    public long RightHandSideLength => rhsOffsets[^1];

    /// <summary>The length Σ k_s² of the packed factors (the workspace of a batched solve).</summary>
    public long FactorLength => factorOffsets[^1];

    /// <summary>The indices of every system, concatenated.</summary>
    public ReadOnlySpan<int> Indices => indices;

    /// <summary>The S + 1 offsets of the systems into <see cref="Indices"/>.</summary>
    public ReadOnlySpan<int> Starts => starts;

    /// <summary>The S counts m_s of right-hand sides.</summary>
    public ReadOnlySpan<int> RightHandSides => rightHandSides;

    /// <summary>The S + 1 offsets of the systems' right-hand-side blocks in the packed buffer.</summary>
    public ReadOnlySpan<long> RightHandSideOffsets => rhsOffsets;

    /// <summary>The S + 1 offsets of the systems' k_s × k_s factors in a packed workspace.</summary>
    public ReadOnlySpan<long> FactorOffsets => factorOffsets;

    /// <summary>The order k_s of system <paramref name="system"/>.</summary>
    /// <param name="system">The system s.</param>
    /// <returns>|I_s|.</returns>
    public int Order(int system) => starts[system + 1] - starts[system];

    /// <summary>Where the right-hand-side block of system <paramref name="system"/> starts in the packed buffer.</summary>
    /// <param name="system">The system s.</param>
    /// <returns>Σ_{r &lt; s} k_r·m_r.</returns>
    public long RightHandSideOffset(int system) => rhsOffsets[system];

    /// <summary>Solves every system on the host in parallel; throws for the lowest system that is not positive definite.</summary>
    internal static unsafe void SolveAll<T>(T* p, int ldp, T ridge, SmallSystemBatch systems, Span<T> rightHandSides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* rhs = rightHandSides)
        {
            SolveAll(p, ldp, ridge, systems, rhs, -1);
        }
    }

    /// <summary>Solves every system on the host in parallel on up to <paramref name="threads"/> threads (−1: no cap); pointer form, for pinned buffers.</summary>
    internal static unsafe void SolveAll<T>(T* p, int ldp, T ridge, SmallSystemBatch systems, T* rhs, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (systems.Count == 0)
        {
            return;
        }

        int failedSystem = int.MaxValue, failedPivot = -1;
        var gate = new object();
        nint pp = (nint)p, pr = (nint)rhs;
        Parallel.ForEach(
            System.Collections.Concurrent.Partitioner.Create(0, systems.Count, Math.Max(1, systems.Count / (4 * Environment.ProcessorCount))),
            new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => new T[systems.MaxOrder * systems.MaxOrder],
            (range, _, scratch) =>
            {
                for (int s = range.Item1; s < range.Item2; s++)
                {
                    int k = systems.Order(s), m = systems.rightHandSides[s];
                    var columns = systems.indices.AsSpan(systems.starts[s], k);
                    var b = new Span<T>((T*)pr + systems.rhsOffsets[s], k * m);
                    int pivot = SolveOne((T*)pp, ldp, ridge, columns, scratch.AsSpan(0, k * k), b, m);
                    if (pivot >= 0)
                    {
                        lock (gate)
                        {
                            if (s < failedSystem)
                            {
                                (failedSystem, failedPivot) = (s, pivot);
                            }
                        }

                        break;
                    }
                }

                return scratch;
            },
            _ => { });
        if (failedSystem != int.MaxValue)
        {
            throw MatrixNotPositiveDefiniteException.ForBatchedSystem(failedSystem, systems.Order(failedSystem), failedPivot);
        }
    }

    /// <summary>
    /// Gathers, factors and solves one system on the host: the reference algorithm of every backend (the CPU backends run it
    /// directly, the ILGPU kernel is the same loop per device thread). Returns −1, or the pivot that was not positive.
    /// </summary>
    internal static unsafe int SolveOne<T>(T* p, int ldp, T ridge, ReadOnlySpan<int> columns, Span<T> a, Span<T> b, int m)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = columns.Length;
        for (int r = 0; r < k; r++)
        {
            long pr = (long)columns[r] * ldp;
            for (int c = 0; c <= r; c++)
            {
                a[(r * k) + c] = p[pr + columns[c]];
            }

            a[(r * k) + r] += ridge;
        }

        return FactorAndSolve(a, k, b, m);
    }

    /// <summary>In-place Cholesky (lower triangle of the k × k row-major <paramref name="a"/>) and solve of the k × m block <paramref name="b"/>.</summary>
    internal static int FactorAndSolve<T>(Span<T> a, int k, Span<T> b, int m)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < k; j++)
        {
            T pivot = a[(j * k) + j];
            for (int q = 0; q < j; q++)
            {
                pivot -= a[(j * k) + q] * a[(j * k) + q];
            }

            if (!(pivot > T.Zero) || !T.IsFinite(pivot))
            {
                return j;
            }

            T ljj = T.Sqrt(pivot);
            a[(j * k) + j] = ljj;
            for (int i = j + 1; i < k; i++)
            {
                T x = a[(i * k) + j];
                for (int q = 0; q < j; q++)
                {
                    x -= a[(i * k) + q] * a[(j * k) + q];
                }

                a[(i * k) + j] = x / ljj;
            }
        }

        for (int c = 0; c < m; c++)
        {
            for (int i = 0; i < k; i++)
            {
                T x = b[(i * m) + c];
                for (int q = 0; q < i; q++)
                {
                    x -= a[(i * k) + q] * b[(q * m) + c];
                }

                b[(i * m) + c] = x / a[(i * k) + i];
            }

            for (int i = k - 1; i >= 0; i--)
            {
                T x = b[(i * m) + c];
                for (int q = i + 1; q < k; q++)
                {
                    x -= a[(q * k) + i] * b[(q * m) + c];
                }

                b[(i * m) + c] = x / a[(i * k) + i];
            }
        }

        return -1;
    }
}
