namespace FeatureLearning.Data;

/// <summary>The observed entries of a partially observed matrix in coordinate form (row, column, value): never a dense mask.</summary>
public sealed class ObservedEntries
{
    /// <summary>Creates the entries; the arrays are copied.</summary>
    /// <param name="rowCount">Rows of the matrix.</param>
    /// <param name="columnCount">Columns of the matrix.</param>
    /// <param name="rows">Row index of each entry.</param>
    /// <param name="columns">Column index of each entry.</param>
    /// <param name="values">Value of each entry.</param>
    /// <exception cref="ArgumentException">Lengths differ, an index is out of range, a value is not finite, or a coordinate (row, column) occurs twice (the message names the first repeated coordinate).</exception>
    public ObservedEntries(int rowCount, int columnCount, IReadOnlyList<int> rows, IReadOnlyList<int> columns, IReadOnlyList<double> values)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columnCount, 1);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(values);
        if (rows.Count != columns.Count || rows.Count != values.Count)
        {
            throw new ArgumentException(
                $"{rows.Count} rows, {columns.Count} columns and {values.Count} values: the three lists must have the same length.",
                rows.Count != columns.Count ? nameof(columns) : nameof(values));
        }

        var firstAt = new Dictionary<long, int>(rows.Count);
        for (int e = 0; e < rows.Count; e++)
        {
            if ((uint)rows[e] >= (uint)rowCount || (uint)columns[e] >= (uint)columnCount)
            {
                throw new ArgumentException(
                    $"Entry {e} at ({rows[e]}, {columns[e]}) lies outside the {rowCount} x {columnCount} matrix.",
                    (uint)rows[e] >= (uint)rowCount ? nameof(rows) : nameof(columns));
            }

            if (!double.IsFinite(values[e]))
            {
                throw new ArgumentException($"Entry {e} has value {values[e]}: values must be finite.", nameof(values));
            }

            if (!firstAt.TryAdd(((long)rows[e] * columnCount) + columns[e], e))
            {
                throw new ArgumentException(
                    $"Entries {firstAt[((long)rows[e] * columnCount) + columns[e]]} and {e} both observe ({rows[e]}, {columns[e]}): each coordinate may be observed once (average or drop the repeats first).",
                    nameof(rows));
            }
        }

        RowCount = rowCount;
        ColumnCount = columnCount;
        Rows = rows.ToArray();
        Columns = columns.ToArray();
        Values = values.ToArray();
    }

    /// <summary>Rows of the matrix.</summary>
    public int RowCount { get; }

    /// <summary>Columns of the matrix.</summary>
    public int ColumnCount { get; }

    /// <summary>Row index of each entry.</summary>
    public IReadOnlyList<int> Rows { get; }

    /// <summary>Column index of each entry.</summary>
    public IReadOnlyList<int> Columns { get; }

    /// <summary>Value of each entry.</summary>
    public IReadOnlyList<double> Values { get; }

    /// <summary>Number of observed entries.</summary>
    public int Count => Values.Count;

    /// <summary>The entries at the given positions of the lists.</summary>
    /// <param name="indices">Positions.</param>
    /// <returns>A new set of entries.</returns>
    public ObservedEntries Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return new ObservedEntries(RowCount, ColumnCount, indices.Select(i => Rows[i]).ToArray(), indices.Select(i => Columns[i]).ToArray(), indices.Select(i => Values[i]).ToArray());
    }
}
