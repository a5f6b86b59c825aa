using System.Text;

namespace Kscope.Diagnostics.Output;

/// <summary>
/// The layout of every text table kscope prints — trace's streamed rows, pprof's top, diff and goroutine tables,
/// doctor's — so that no value is ever cut: a column is as wide as its widest value, the last column is never
/// padded and, on a terminal, wraps under itself instead of running into the next line's first column.
/// </summary>
/// <remarks>
/// A table printed at once (<see cref="Render"/>) knows its widths. A streamed one (<see cref="Columns"/>) starts
/// from expected widths and widens a column when a longer value comes, for the rows after it, up to
/// <see cref="Columns.GrowLimit"/>; a value longer than that is still written whole and moves the rest of its row
/// right (one outlier does not push every later row off the screen).
/// </remarks>
public static class TextTable
{
    /// <summary>
    /// Lines of a table: columns separated by two spaces, right-aligned where <paramref name="rightAligned"/> says,
    /// the last one unpadded; when a line is wider than <paramref name="width"/> its last cell wraps (at spaces when
    /// it can) onto lines indented to where that cell starts.
    /// </summary>
    public static IEnumerable<string> Render(IReadOnlyList<string[]> rows, IReadOnlyList<bool> rightAligned, int width = int.MaxValue)
    {
        if (rows.Count == 0)
        {
            yield break;
        }
        int columns = rows.Max(r => r.Length);
        int[] widths = new int[columns];
        foreach (string[] r in rows)
        {
            for (int i = 0; i < r.Length - 1; i++)
            {
                widths[i] = Math.Max(widths[i], r[i].Length);
            }
        }
        var line = new StringBuilder();
        foreach (string[] r in rows)
        {
            line.Clear();
            for (int i = 0; i < r.Length - 1; i++)
            {
                bool right = i < rightAligned.Count && rightAligned[i];
                line.Append(right ? r[i].PadLeft(widths[i]) : r[i].PadRight(widths[i])).Append("  ");
            }
            string last = r.Length > 0 ? r[^1] : "";
            foreach (string l in Wrap(line.ToString(), last, width))
            {
                yield return l;
            }
        }
    }

    /// <summary><paramref name="prefix"/> then <paramref name="text"/>, wrapped at <paramref name="width"/> under the text's first column.</summary>
    public static IEnumerable<string> Wrap(string prefix, string text, int width)
    {
        int room = width - prefix.Length;
        if (text.Length <= room || room < 20)
        {
            yield return (prefix + text).TrimEnd();
            yield break;
        }
        string indent = new(' ', prefix.Length);
        bool first = true;
        while (text.Length > 0)
        {
            int take = Math.Min(room, text.Length);
            if (take < text.Length)
            {
                int space = text.LastIndexOf(' ', take - 1, take);
                if (space > room / 2)
                {
                    take = space + 1;
                }
            }
            yield return ((first ? prefix : indent) + text[..take]).TrimEnd();
            text = text[take..];
            first = false;
        }
    }

    /// <summary>The widths of a streamed table's columns (all but the last), widened as values come.</summary>
    public sealed class Columns
    {
        /// <summary>The most a column widens to; a longer value is written whole and moves the rest of its row.</summary>
        public const int GrowLimit = 48;

        private readonly int[] _widths;

        public Columns(IEnumerable<int> expected) => _widths = expected.ToArray();

        public int Count => _widths.Length;

        public int Width(int column) => _widths[column];

        /// <summary>Appends <paramref name="cell"/> padded to its column and the separator (one space).</summary>
        public void Append(StringBuilder line, int column, ReadOnlySpan<char> cell)
        {
            int width = Fit(column, cell.Length);
            line.Append(cell);
            if (cell.Length < width)
            {
                line.Append(' ', width - cell.Length);
            }
            line.Append(' ');
        }

        /// <summary><see cref="Append(StringBuilder, int, ReadOnlySpan{char})"/> into a char buffer (the allocation-free hot path).</summary>
        public void Append(Span<char> line, ref int n, int column, ReadOnlySpan<char> cell)
        {
            int width = Fit(column, cell.Length);
            cell.CopyTo(line[n..]);
            n += cell.Length;
            if (cell.Length < width)
            {
                line.Slice(n, width - cell.Length).Fill(' ');
                n += width - cell.Length;
            }
            line[n++] = ' ';
        }

        private int Fit(int column, int length)
        {
            if ((uint)column >= (uint)_widths.Length)
            {
                return length;
            }
            if (length > _widths[column] && length <= GrowLimit)
            {
                _widths[column] = length; // the rows after this one line up with it
            }
            return _widths[column];
        }
    }
}
