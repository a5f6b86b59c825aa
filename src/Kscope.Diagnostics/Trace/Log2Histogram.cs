using System.Text;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// A power-of-two histogram as the gadgets keep it in the kernel (slot i counts values v with
/// floor(log2 v) == i, v == 0 in slot 0), rendered like bpftrace's hist().
/// </summary>
public sealed class Log2Histogram
{
    public Log2Histogram(IReadOnlyList<ulong> slots) => Slots = slots.ToArray();

    public ulong[] Slots { get; }

    public ulong Count => Slots.Aggregate(0UL, (a, b) => a + b);

    /// <summary>Adds another histogram's counts (same slot count).</summary>
    public void Add(Log2Histogram other)
    {
        for (int i = 0; i < Math.Min(Slots.Length, other.Slots.Length); i++)
        {
            Slots[i] += other.Slots[i];
        }
    }

    /// <summary>The upper bound of the slot holding the q-quantile (0..1), in the histogram's unit.</summary>
    public ulong Quantile(double q)
    {
        ulong total = Count;
        if (total == 0)
        {
            return 0;
        }
        ulong target = (ulong)Math.Ceiling(q * total), seen = 0;
        for (int i = 0; i < Slots.Length; i++)
        {
            seen += Slots[i];
            if (seen >= target)
            {
                return i >= 63 ? ulong.MaxValue : 1UL << (i + 1);
            }
        }
        return ulong.MaxValue;
    }

    /// <summary>Rows "[lo, hi)  count |@@@@   |" for the non-empty range of slots; values shown with <paramref name="unit"/>.</summary>
    public string Render(Func<ulong, string> unit, int barWidth = 40)
    {
        int first = Array.FindIndex(Slots, s => s != 0);
        if (first < 0)
        {
            return "(no samples)\n";
        }
        int last = Array.FindLastIndex(Slots, s => s != 0);
        ulong max = Slots.Max();
        var rows = new List<(string Range, ulong Count)>();
        for (int i = first; i <= last; i++)
        {
            ulong lo = i == 0 ? 0 : 1UL << i;
            ulong hi = 1UL << (i + 1);
            rows.Add(($"[{unit(lo)}, {unit(hi)})", Slots[i]));
        }
        int rangeWidth = rows.Max(r => r.Range.Length);
        int countWidth = rows.Max(r => r.Count.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        var text = new StringBuilder();
        foreach ((string range, ulong count) in rows)
        {
            int bar = max == 0 ? 0 : (int)Math.Ceiling((double)count / max * barWidth);
            text.Append(range.PadRight(rangeWidth)).Append(' ')
                .Append(count.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(countWidth))
                .Append(" |").Append(new string('@', bar)).Append(' ', barWidth - bar).Append("|\n");
        }
        return text.ToString();
    }
}
