using System.Globalization;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Tests.Profiling;

/// <summary>
/// Samples per leaf function, from perf's side (<c>perf script</c> on a perf.data) or kscope's (its pprof file), with
/// the names made comparable: perf names Go functions by their ELF symbols, which carry an ABI suffix
/// (<c>crypto/sha256.block.abi0</c>) that Go's own tables (and kscope, which reads them) do not.
/// </summary>
internal sealed class FlatProfile
{
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    public long Total { get; private set; }

    /// <summary>Samples per thread id (perf's side only).</summary>
    public Dictionary<int, long> Threads { get; } = [];

    public IReadOnlyDictionary<string, long> Counts => _counts;

    public long this[string function] => _counts.GetValueOrDefault(function);

    /// <summary>The <paramref name="n"/> functions with the most samples.</summary>
    public List<string> Top(int n) => _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(n).Select(c => c.Key).ToList();

    public string Describe(int n = 8) =>
        $"{Total} samples: " + string.Join(", ", _counts.OrderByDescending(c => c.Value).Take(n).Select(c => $"{c.Key} {c.Value} ({100.0 * c.Value / Math.Max(1, Total):F1}%)"));

    public static string Normalize(string name) =>
        name.EndsWith(".abi0", StringComparison.Ordinal) ? name[..^5]
        : name.EndsWith(".abiinternal", StringComparison.Ordinal) ? name[..^12]
        : name;

    private void Add(string function, long count)
    {
        _counts[Normalize(function)] = _counts.GetValueOrDefault(Normalize(function)) + count;
        Total += count;
    }

    /// <summary>
    /// perf's samples (perf script -F comm,pid,tid,time,ip,sym: a "comm pid/tid seconds:" line, then the callchain,
    /// leaf first), optionally only those of <paramref name="comm"/> and those taken between <paramref name="from"/> and
    /// <paramref name="to"/> (nanoseconds of the clock perf recorded with: <c>perf record -k mono</c> for CLOCK_MONOTONIC).
    /// </summary>
    public static FlatProfile FromPerf(string perfData, string? comm = null, ulong from = 0, ulong to = ulong.MaxValue)
    {
        string perf = Requires.Tool("perf", "linux-perf");
        var (code, output, err) = Tools.Run(perf, "script", "--ns", "-i", perfData, "-F", "comm,pid,tid,time,ip,sym");
        Assert.True(code == 0, $"perf script exited {code}: {err}");
        var flat = new FlatProfile();
        bool want = false, leaf = false;
        foreach (string line in output.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }
            if (!char.IsWhiteSpace(line[0]))
            {
                // "service   863/867  1234.567890123:": the comm may hold spaces; pid/tid and the time are the last words
                string[] words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.True(words.Length >= 3 && words[^1].EndsWith(':'), $"unexpected perf script line '{line}'");
                string name = string.Join(' ', words[..^2]);
                string[] time = words[^1].TrimEnd(':').Split('.');
                ulong nanos = ulong.Parse(time[0], CultureInfo.InvariantCulture) * 1_000_000_000 + ulong.Parse(time[1].PadRight(9, '0')[..9], CultureInfo.InvariantCulture);
                want = (comm is null || name == comm) && nanos >= from && nanos <= to;
                if (want)
                {
                    int tid = int.Parse(words[^2].Split('/')[^1], CultureInfo.InvariantCulture);
                    flat.Threads[tid] = flat.Threads.GetValueOrDefault(tid) + 1;
                }
                leaf = true;
                continue;
            }
            if (leaf && want)
            {
                string[] parts = line.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
                flat.Add(parts.Length > 1 ? parts[1].Trim() : "[unknown]", 1);
            }
            leaf = false;
        }
        return flat;
    }

    /// <summary>kscope's samples (values[0], the sample count) by the innermost function of the leaf location, optionally only <paramref name="pids"/>'.</summary>
    public static FlatProfile FromKscope(Profile profile, IReadOnlySet<long>? pids = null)
    {
        var flat = new FlatProfile();
        foreach (Sample s in profile.Samples)
        {
            if (pids is not null && !pids.Contains(s.Labels.FirstOrDefault(l => l.Key == "pid")?.Num ?? -1))
            {
                continue;
            }
            if (s.Values[0] == 0)
            {
                continue;
            }
            string name = s.Locations.Length > 0 && s.Locations[0].Lines.Length > 0 && s.Locations[0].Lines[0].Function is { } f ? f.Name : "[unknown]";
            flat.Add(name, s.Values[0]);
        }
        return flat;
    }

    /// <summary>
    /// Go's own profile (runtime/pprof through net/http/pprof), flat by function, as go tool pprof -top prints it, with
    /// runtime.asyncPreempt hidden (its time goes to the function it interrupted): on a loaded machine Go's SIGPROF
    /// often arrives together with the SIGURG that preempts a tight loop, and Go 1.19 then charges the sample to the
    /// injected asyncPreempt frame (45 % of the service's samples at load 50 here; perf and the kernel's accounting
    /// agree it is not where the CPU went).
    /// </summary>
    public static FlatProfile FromGoPprof(string profile, long periodNanos)
    {
        var flat = new FlatProfile();
        foreach (GoPprofTop.Row row in GoPprofTop.Run(profile, 40, null, "-hide=^runtime\\.asyncPreempt$"))
        {
            flat.Add(row.Name, (long)Math.Round(row.Flat / periodNanos));
        }
        return flat;
    }

    /// <summary>
    /// Whether two profiles have the same top <paramref name="n"/>: the same set, or sets that differ only by functions
    /// whose counts are within sampling noise (<see cref="Agree"/>) of the other profile's n-th, where the ranking is not
    /// defined by the samples. <paramref name="skip"/> leaves functions out of both rankings (kernel functions, when one
    /// side is Go's own profiler, which cannot see them).
    /// </summary>
    public static bool SameTop(FlatProfile a, FlatProfile b, int n, out string why, Func<string, bool>? skip = null)
    {
        List<string> topA = a.Ranked(skip).Take(n).ToList(), topB = b.Ranked(skip).Take(n).ToList();
        why = $"top {n}: [{string.Join(", ", topA)}] vs [{string.Join(", ", topB)}]";
        if (topA.ToHashSet().SetEquals(topB))
        {
            return true;
        }
        if (topA.Count < n || topB.Count < n)
        {
            return false;
        }
        long lastA = a[topA[^1]], lastB = b[topB[^1]];
        foreach (string f in topA.Except(topB))
        {
            if (!Agree(b[f], lastB, out string w))
            {
                why += $"; {f} is {w} against the other's #{n}";
                return false;
            }
        }
        foreach (string f in topB.Except(topA))
        {
            if (!Agree(a[f], lastA, out string w))
            {
                why += $"; {f} is {w} against the other's #{n}";
                return false;
            }
        }
        why += " (the differing ones are within sampling noise of #" + n + ")";
        return true;
    }

    private IEnumerable<string> Ranked(Func<string, bool>? skip) =>
        _counts.Where(c => !(skip?.Invoke(c.Key) ?? false)).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key);

    /// <summary>
    /// Whether two counts of one function agree: within 20 %, or within three standard deviations of the difference of
    /// two independent samplings (√(a+b)) when the counts are so small that 20 % is inside sampling noise.
    /// </summary>
    public static bool Agree(long a, long b, out string why)
    {
        double tolerance = Math.Max(0.2 * Math.Max(a, b), 3 * Math.Sqrt(a + b));
        why = string.Create(CultureInfo.InvariantCulture, $"{a} vs {b} (|Δ| {Math.Abs(a - b)}, allowed {tolerance:F0})");
        return Math.Abs(a - b) <= tolerance;
    }
}
