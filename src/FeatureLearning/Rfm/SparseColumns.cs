using System.Numerics;

namespace FeatureLearning.Rfm;

/// <summary>
/// The non-zero pattern of a host matrix X (n × d, row-major) by columns (compressed sparse columns): the rows
/// <see cref="Rows"/>[<see cref="Start"/>[l] … <see cref="Start"/>[l + 1] − 1] of column l, ascending, with their values.
/// The AGOP's sparse direct form gathers the derivative weights of those rows for each column.
/// </summary>
internal sealed class SparseColumns
{
    /// <summary>The largest fraction of non-zero entries for which <see cref="AgopForm.Auto"/> considers the sparse direct form.</summary>
    public const double DensityLimit = 0.25;

    private SparseColumns(int n, int d, int[] start, int[] rows, double[] values)
    {
        (RowCount, ColumnCount, Start, Rows, Values) = (n, d, start, rows, values);
        OneHotGroup = FindOneHotGroup(n, d, start, rows, values);
    }

    /// <summary>Rows of X.</summary>
    public int RowCount { get; }

    /// <summary>Columns of X.</summary>
    public int ColumnCount { get; }

    /// <summary>d + 1 offsets into <see cref="Rows"/> and <see cref="Values"/>: column l holds entries Start[l] … Start[l + 1] − 1.</summary>
    public int[] Start { get; }

    /// <summary>The row of each non-zero entry, column by column, ascending within a column.</summary>
    public int[] Rows { get; }

    /// <summary>The value of each non-zero entry.</summary>
    public double[] Values { get; }

    /// <summary>Number of non-zero entries.</summary>
    public int NonZeros => Rows.Length;

    /// <summary>
    /// Columns in which every row of X has exactly one non-zero, equal to 1 (one one-hot encoded feature, such as the first
    /// operand of grokking's pairs), ascending; null when none was found. Only the columns of the rows' first non-zeros are
    /// tried, so a one-hot feature that does not come first in every row is not found (a conservative miss). Then Σ_{l in the group} x_il·v = v for every row i
    /// and vector v, which lets the AGOP's sparse kernel read S = W'α off the gradients it builds (see
    /// <see cref="Compute.Managed.SparseGradientKernel{T}"/>) instead of a GEMM over W'.
    /// </summary>
    public int[]? OneHotGroup { get; }

    /// <summary>
    /// The pattern the AGOP needs for <paramref name="form"/> on <paramref name="backend"/>, found once per fit: always for
    /// <see cref="AgopForm.SparseDirect"/>; under <see cref="AgopForm.Auto"/> only on a CPU backend and only for sparse
    /// centres (<see cref="Detect{T}"/>), since on a GPU the sparse form's per-column gathers and GEMMs cost more in launches
    /// than the flops they save; otherwise null, which keeps <see cref="AgopEngine.Resolve(AgopForm, int, int, int, int, SparseColumns?)"/>
    /// to the dense forms.
    /// </summary>
    public static SparseColumns? ForAgop<T>(AgopForm form, Compute.IComputeBackend backend, ReadOnlySpan<T> centres, int n, int d)
        where T : unmanaged, IFloatingPointIeee754<T> => form switch
        {
            AgopForm.Auto when backend is Compute.CpuBackend => Detect(centres, n, d),
            AgopForm.SparseDirect => Build(centres, n, d),
            _ => null,
        };

    /// <summary>
    /// The candidate group is the columns of the rows' first non-zeros; it is one-hot when each row has exactly one non-zero
    /// in it, of value 1 (checked over all entries). Null when not, or when X has no rows.
    /// </summary>
    private static int[]? FindOneHotGroup(int n, int d, int[] start, int[] rows, double[] values)
    {
        if (n == 0)
        {
            return null;
        }

        // The first non-zero column of each row (columns visited in order, so the first visit of a row is its first column).
        var first = new int[n];
        Array.Fill(first, -1);
        for (int l = 0; l < d; l++)
        {
            for (int t = start[l]; t < start[l + 1]; t++)
            {
                if (first[rows[t]] < 0)
                {
                    first[rows[t]] = l;
                }
            }
        }

        var inGroup = new bool[d];
        foreach (int l in first)
        {
            if (l < 0)
            {
                return null;
            }

            inGroup[l] = true;
        }

        var count = new int[n];
        for (int l = 0; l < d; l++)
        {
            if (!inGroup[l])
            {
                continue;
            }

            for (int t = start[l]; t < start[l + 1]; t++)
            {
                if (values[t] != 1 || ++count[rows[t]] > 1)
                {
                    return null;
                }
            }
        }

        return Enumerable.Range(0, d).Where(l => inGroup[l]).ToArray();
    }

    /// <summary>The pattern of <paramref name="x"/> when at most <see cref="DensityLimit"/> of its entries are non-zero, else null (counted first, so a dense matrix costs one pass).</summary>
    public static SparseColumns? Detect<T>(ReadOnlySpan<T> x, int n, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long nnz = 0;
        foreach (var v in x[..checked(n * d)])
        {
            if (v != T.Zero)
            {
                nnz++;
            }
        }

        return nnz <= DensityLimit * n * d ? Build(x, n, d) : null;
    }

    /// <summary>The pattern of <paramref name="x"/> (n × d, row-major), whatever its density.</summary>
    public static SparseColumns Build<T>(ReadOnlySpan<T> x, int n, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var start = new int[d + 1];
        for (int i = 0; i < n; i++)
        {
            for (int l = 0; l < d; l++)
            {
                if (x[(i * d) + l] != T.Zero)
                {
                    start[l + 1]++;
                }
            }
        }

        for (int l = 0; l < d; l++)
        {
            start[l + 1] += start[l];
        }

        var next = (int[])start.Clone();
        var rows = new int[start[d]];
        var values = new double[start[d]];
        for (int i = 0; i < n; i++)
        {
            for (int l = 0; l < d; l++)
            {
                var v = x[(i * d) + l];
                if (v != T.Zero)
                {
                    int at = next[l]++;
                    rows[at] = i;
                    values[at] = double.CreateTruncating(v);
                }
            }
        }

        return new SparseColumns(n, d, start, rows, values);
    }
}
