using Kscope.Native;

namespace Kscope.Kernel.Tests;

/// <summary>
/// This process's kernel objects by kind, counted WITHOUT a garbage collection (an fd left to a finalizer
/// shows as a leak): descriptors from /proc/self/fd (bpf-map, bpf-prog, bpf_link, btf, [perf_event],
/// [eventfd], [eventpoll]) and mappings from /proc/self/maps (bpf-map: ring buffers; [perf_event]: perf rings).
/// </summary>
internal sealed record KernelObjects(IReadOnlyDictionary<string, int> Fds, IReadOnlyDictionary<string, int> Mappings)
{
    private const string AnonInode = "anon_inode:";

    public static KernelObjects Take()
    {
        var fds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile (the directory's own fd)
            }
            if (target is not null && target.StartsWith(AnonInode, StringComparison.Ordinal))
            {
                string kind = target[AnonInode.Length..];
                fds[kind] = fds.GetValueOrDefault(kind) + 1;
            }
        }
        var maps = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int at = line.IndexOf(AnonInode, StringComparison.Ordinal);
            if (at >= 0)
            {
                string kind = line[(at + AnonInode.Length)..].Trim();
                maps[kind] = maps.GetValueOrDefault(kind) + 1;
            }
        }
        return new KernelObjects(fds, maps);
    }

    /// <summary>"fd bpf-map 3 -> 4; mapping [perf_event] 2 -> 0", or "" when equal.</summary>
    public string Difference(KernelObjects after)
    {
        var parts = new List<string>();
        Compare("fd", Fds, after.Fds);
        Compare("mapping", Mappings, after.Mappings);
        return string.Join("; ", parts);

        void Compare(string what, IReadOnlyDictionary<string, int> a, IReadOnlyDictionary<string, int> b)
        {
            foreach (string kind in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
            {
                int x = a.GetValueOrDefault(kind), y = b.GetValueOrDefault(kind);
                if (x != y)
                {
                    parts.Add($"{what} {kind} {x} -> {y}");
                }
            }
        }
    }

    /// <summary>Asserts that <paramref name="action"/> leaves every kind of kernel object as it found it (no GC in between).</summary>
    public static void AssertUnchanged(string what, Action action)
    {
        KernelObjects before = Take();
        action();
        string diff = before.Difference(Take());
        Assert.True(diff.Length == 0, $"{what} left kernel objects behind: {diff}");
    }

    /// <summary>
    /// Runs <paramref name="action"/> with RLIMIT_NOFILE lowered so that exactly <paramref name="allowed"/> more
    /// descriptors can be opened: the next one fails with EMFILE. This injects a real kernel error at each fd a
    /// constructor opens, in turn. Returns the exception the action threw, or null. Run only in the
    /// non-parallel leak collection: the limit is process-wide.
    /// </summary>
    public static Exception? WithFdBudget(int allowed, Action action)
    {
        const int NoFile = 7; // RLIMIT_NOFILE
        RLimit old = Posix.GetRLimit(NoFile);
        int highest = Directory.GetFiles("/proc/self/fd").Max(p => int.Parse(Path.GetFileName(p), System.Globalization.CultureInfo.InvariantCulture));
        // Fill every hole below the highest open descriptor (the kernel hands out the lowest free number), so that
        // exactly the numbers first..first+allowed-1 are free under the lowered limit.
        var fillers = new List<SafeFd>();
        int first;
        while (true)
        {
            SafeFd f = Posix.Open("/dev/null", OpenFlags.O_RDONLY);
            if (f.Value > highest)
            {
                first = f.Value;
                f.Dispose();
                break;
            }
            fillers.Add(f);
        }
        Posix.SetRLimit(NoFile, new RLimit { Current = (ulong)(first + allowed), Maximum = old.Maximum });
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
        finally
        {
            Posix.SetRLimit(NoFile, old);
            fillers.ForEach(f => f.Dispose());
        }
    }
}
