namespace VideoCallbacks.Cli;

/// <summary>
/// Writes rows as left-aligned columns separated by two spaces. Empty or null cells print as "-";
/// line breaks and tabs inside a cell become spaces so every row stays on one line.
/// </summary>
public sealed class TableWriter
{
    private const string Gap = "  ";
    private readonly string[]? _headers;
    private readonly List<string[]> _rows = [];
    private readonly int _columns;

    /// <param name="headers">Column headings; pass none for a table without a heading line.</param>
    public TableWriter(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = headers.Length == 0 ? null : headers;
        _columns = headers.Length;
    }

    public int RowCount => _rows.Count;

    public void AddRow(params string?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (_headers is not null && cells.Length != _columns)
        {
            throw new ArgumentException($"expected {_columns} cells, got {cells.Length}", nameof(cells));
        }

        _rows.Add(cells.Select(Clean).ToArray());
    }

    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var all = _headers is null ? _rows : [_headers, .. _rows];
        if (all.Count == 0)
        {
            return;
        }

        var columns = all.Max(r => r.Length);
        var widths = new int[columns];
        foreach (var row in all)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in all)
        {
            var line = new System.Text.StringBuilder();
            for (var i = 0; i < row.Length; i++)
            {
                if (i > 0)
                {
                    line.Append(Gap);
                }

                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i]));
            }

            writer.WriteLine(line.ToString().TrimEnd());
        }
    }

    private static string Clean(string? cell)
    {
        if (string.IsNullOrWhiteSpace(cell))
        {
            return "-";
        }

        return cell.IndexOfAny(['\r', '\n', '\t']) < 0 ? cell : AdminClient.OneLine(cell);
    }
}
