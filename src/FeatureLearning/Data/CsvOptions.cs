namespace FeatureLearning.Data;

/// <summary>
/// How <see cref="LabeledDataSet.LoadCsv(string, CsvOptions)"/> and <see cref="RegressionDataSet.LoadCsv"/> read a
/// delimited text file (gzip-compressed when the name ends in <c>.gz</c>): the separator, whether the first line is a
/// header, and which column holds the label or target (the last by default); every other column is a numeric feature.
/// Fields are not quoted; blank lines are skipped.
/// </summary>
public sealed record CsvOptions
{
    /// <summary>The field separator (default <c>','</c>; <c>';'</c> and <c>'\t'</c> are common).</summary>
    public char Separator { get; init; } = ',';

    /// <summary>Whether the first line names the columns (and is not data).</summary>
    public bool HasHeader { get; init; }

    /// <summary>
    /// The label or target column by position: 0-based from the left, or negative from the right (−1 is the last);
    /// null (the default) for the last column unless <see cref="LabelColumnName"/> is given.
    /// </summary>
    public int? LabelColumn { get; init; }

    /// <summary>The label or target column by its header name (needs <see cref="HasHeader"/>).</summary>
    public string? LabelColumnName { get; init; }

    /// <summary>Checks the options, throwing an <see cref="ArgumentException"/> that names the bad one.</summary>
    /// <exception cref="ArgumentException">A separator that is a quote, a line break or a digit; both a column index and a name; a name without a header.</exception>
    public void Validate()
    {
        if (Separator is '"' or '\n' or '\r' or '.' or '-' or '+' || char.IsDigit(Separator))
        {
            throw new ArgumentException($"'{Separator}' cannot separate numeric fields.", nameof(Separator));
        }

        if (LabelColumn is not null && LabelColumnName is not null)
        {
            throw new ArgumentException("Give the label column by index or by name, not both.", nameof(LabelColumnName));
        }

        if (LabelColumnName is not null && !HasHeader)
        {
            throw new ArgumentException("A label column name needs a header line (HasHeader = true).", nameof(LabelColumnName));
        }
    }
}
