using System.Globalization;
using System.IO.Compression;

namespace FeatureLearning.Data;

/// <summary>A delimited text file read as numeric feature rows and the text of one label or target column.</summary>
internal sealed class CsvTable
{
    private CsvTable(List<double[]> rows, List<string> labels, List<int> lines)
    {
        Rows = rows;
        Labels = labels;
        LineNumbers = lines;
    }

    public List<double[]> Rows { get; }

    public List<string> Labels { get; }

    /// <summary>The file line of each row (for messages).</summary>
    public List<int> LineNumbers { get; }

    public static CsvTable Read(string path, CsvOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using Stream file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream);
        var rows = new List<double[]>();
        var labels = new List<string>();
        var lines = new List<int>();
        int columns = -1, labelColumn = -1;
        string[]? header = null;
        string? line;
        int lineNumber = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(options.Separator);
            if (options.HasHeader && header is null)
            {
                header = fields;
                continue;
            }

            if (columns < 0)
            {
                columns = fields.Length;
                if (columns < 2)
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: one field; a label and at least one feature are needed (is the separator '{options.Separator}' right?).");
                }

                labelColumn = LabelColumn(path, options, header, columns);
            }

            if (fields.Length != columns)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: {fields.Length} fields where {columns} were expected.");
            }

            var row = new double[columns - 1];
            for (int j = 0, k = 0; j < columns; j++)
            {
                if (j == labelColumn)
                {
                    continue;
                }

                if (!double.TryParse(fields[j], NumberStyles.Float, CultureInfo.InvariantCulture, out row[k++]))
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: field {j + 1} ('{fields[j]}') is not a number.");
                }
            }

            rows.Add(row);
            labels.Add(fields[labelColumn].Trim());
            lines.Add(lineNumber);
        }

        if (rows.Count == 0)
        {
            throw new InvalidDataException($"{path} holds no data rows.");
        }

        return new CsvTable(rows, labels, lines);
    }

    /// <summary>Parses a label that must be a non-negative integer (the old format of the repository's data files).</summary>
    public static bool TryParseClass(string text, out int label)
    {
        label = 0;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0 || value != Math.Floor(value) || value > int.MaxValue)
        {
            return false;
        }

        label = (int)value;
        return true;
    }

    private static int LabelColumn(string path, CsvOptions options, string[]? header, int columns)
    {
        if (options.LabelColumnName is { } name)
        {
            int found = Array.FindIndex(header!, f => f.Trim() == name);
            if (found < 0 || found >= columns)
            {
                throw new InvalidDataException($"{path}: the header has no column '{name}' among the {columns} data columns (it has {string.Join(", ", header!.Select(f => f.Trim()))}).");
            }

            return found;
        }

        int index = options.LabelColumn ?? -1;
        int resolved = index < 0 ? columns + index : index;
        return resolved >= 0 && resolved < columns
            ? resolved
            : throw new InvalidDataException($"{path}: label column {index} does not exist; the file has {columns} columns.");
    }
}
