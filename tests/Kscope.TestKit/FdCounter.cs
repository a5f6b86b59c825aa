using System.Globalization;
using System.Text.Json;

namespace Kscope.TestKit;

/// <summary>
/// Leak checks on this process's fds and mappings, by kind (bpf-prog, bpf-map, bpf-link, btf, perf_event,
/// eventfd, epoll, pidfd, kvm-vm, kvm-vcpu, socket, pipe, file…, from the /proc/self/fd link targets and
/// /proc/self/fdinfo; mappings of anon inodes from /proc/self/maps) and on the kernel's BPF objects
/// (bpftool prog/map show). Counted before any garbage collection, so a missing Dispose shows; then a
/// collection shows what only a finalizer released.
/// </summary>
public static class FdCounter
{
    /// <summary>Open fds of this process now (no collection first).</summary>
    public static int Count() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>Every open fd and anon-inode mapping of this process now, by kind (no collection first).</summary>
    public static FdSnapshot Snapshot() => FdSnapshot.Take();

    /// <summary>
    /// Runs <paramref name="action"/> once to warm up what a process opens once, then <paramref name="times"/> times,
    /// and fails when an fd or mapping kind grew (listing the new fds with their fdinfo), when a collection then
    /// released fds or mappings (a Dispose is missing: only a finalizer closed them), or when bpftool shows new
    /// programs or maps still held by this process. Must run in <see cref="LeakCollection"/>: other tests' fds count otherwise.
    /// <paramref name="slack"/> allows that many more files, pipes and sockets (never kernel objects).
    /// </summary>
    public static void AssertNoGrowth(int times, Action action, int slack = 0)
    {
        RequireLeakCollection();
        action(); // warm up lazy runtime fds, caches, probes
        LeakCheck check = Begin();
        for (int i = 0; i < times; i++)
        {
            action();
        }
        check.AssertNoLeak($"over {times} iterations", slack);
    }

    /// <summary>
    /// Starts a leak check around code a test runs once (after its own warm-up): collects garbage from before,
    /// then records the fds, mappings and the kernel's BPF object ids. Must run in <see cref="LeakCollection"/>.
    /// </summary>
    public static LeakCheck Begin()
    {
        RequireLeakCollection();
        Collect(); // garbage from before is not the checked code's
        return new LeakCheck(BpfIds.Take(), FdSnapshot.Take());
    }

    /// <summary>A leak check in progress (<see cref="Begin"/>).</summary>
    public sealed class LeakCheck
    {
        private readonly BpfIds? _bpfBefore;

        internal LeakCheck(BpfIds? bpfBefore, FdSnapshot before)
        {
            _bpfBefore = bpfBefore;
            Before = before;
        }

        public FdSnapshot Before { get; }

        /// <summary>
        /// Fails when an fd or mapping kind grew since <see cref="Begin"/> (counted before any collection, listing the
        /// new fds), when a collection then releases fds or mappings (only a finalizer closed them: a Dispose is
        /// missing), or when bpftool lists new programs or maps this process still holds. Returns the count after.
        /// </summary>
        public FdSnapshot AssertNoLeak(string what, int slack = 0)
        {
            FdSnapshot after = FdSnapshot.Take();
            // A pipe pair with both ends here is also what a child being spawned looks like until its fork returns
            // (System.Diagnostics.Process creates the pipes, forks, then closes the child's ends): seen once in a
            // fresh-clone CI (pipe 15 -> 17, gone before the collection). Growth that is pipes only must still be
            // there on a second look, before any collection, to count; every other kind counts at once.
            for (int look = 0; look < 3 && Before.GrowthKinds(after, slack) is { Count: > 0 } kinds && kinds.All(k => k == "pipe"); look++)
            {
                Thread.Sleep(200);
                after = FdSnapshot.Take();
            }
            BpfIds? bpfAfter = BpfIds.Take();
            Collect();
            FdSnapshot collected = FdSnapshot.Take();

            var problems = new List<string>();
            string grown = Before.Growth(after, slack);
            if (grown.Length > 0)
            {
                problems.Add($"grew {what} (counted before any collection): {grown}");
            }
            string finalized = collected.Growth(after, 0);
            if (finalized.Length > 0)
            {
                problems.Add($"released only by a garbage collection after the code ran {what} (finalizers: a Dispose is missing): {finalized}");
            }
            if (_bpfBefore is not null && bpfAfter is not null)
            {
                var ours = after.BpfIds();
                var progs = bpfAfter.Programs.Except(_bpfBefore.Programs).Intersect(ours.Programs).ToList();
                var maps = bpfAfter.Maps.Except(_bpfBefore.Maps).Intersect(ours.Maps).ToList();
                if (progs.Count + maps.Count > 0)
                {
                    problems.Add($"bpftool shows programs [{string.Join(", ", progs)}] and maps [{string.Join(", ", maps)}] created {what} and still held by this process");
                }
            }
            Assert.True(problems.Count == 0, string.Join("\n", problems));
            return after;
        }
    }

    private static void RequireLeakCollection()
    {
        string? collection = TestContext.Current.TestCollection?.TestCollectionDisplayName;
        Assert.True(collection == LeakCollection.Name,
            $"an fd-counting test must be in [Collection(LeakCollection.Name)] (it runs alone there); this one runs in '{collection}'");
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>The program and map ids the kernel lists (bpftool prog/map show -j); null without root or bpftool.</summary>
    internal sealed record BpfIds(HashSet<uint> Programs, HashSet<uint> Maps)
    {
        public static BpfIds? Take()
        {
            if (!Requires.IsRoot() || Tools.Which("bpftool") is not string bpftool)
            {
                return null;
            }
            return new BpfIds(Ids(bpftool, "prog"), Ids(bpftool, "map"));
        }

        private static HashSet<uint> Ids(string bpftool, string what)
        {
            var (code, output, _) = Tools.Run(bpftool, what, "show", "-j");
            if (code != 0)
            {
                return [];
            }
            using JsonDocument doc = JsonDocument.Parse(output);
            return doc.RootElement.EnumerateArray().Where(e => e.TryGetProperty("id", out _)).Select(e => e.GetProperty("id").GetUInt32()).ToHashSet();
        }
    }
}

/// <summary>One open fd: its number, kind, link target and the /proc/self/fdinfo lines that identify it.</summary>
public sealed record FdEntry(int Fd, string Kind, string Target, string Info);

/// <summary>This process's fds and anon-inode mappings at one moment.</summary>
public sealed class FdSnapshot
{
    private static readonly HashSet<string> s_slackKinds = new(StringComparer.Ordinal) { "file", "pipe", "socket" };

    private FdSnapshot(List<FdEntry> fds, Dictionary<string, int> mappings)
    {
        Fds = fds;
        Mappings = mappings;
    }

    public IReadOnlyList<FdEntry> Fds { get; }

    /// <summary>Mappings of anon inodes and devices (perf rings, BPF ring buffers, KVM vCPU run areas) by kind.</summary>
    public IReadOnlyDictionary<string, int> Mappings { get; }

    public IReadOnlyDictionary<string, int> ByKind => Fds.GroupBy(f => f.Kind).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public static FdSnapshot Take()
    {
        var fds = new List<FdEntry>();
        foreach (string path in Directory.GetFiles("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
            {
                continue;
            }
            string? target;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }
            if (target is null)
            {
                continue; // closed since the listing (the listing's own directory fd)
            }
            fds.Add(new FdEntry(fd, Kind(target), target, Info(fd, target)));
        }
        var mappings = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            // "7f12…-7f12… rw-s 00000000 00:0e 1234   anon_inode:[perf_event]"
            string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 6 && (f[5].StartsWith("anon_inode:", StringComparison.Ordinal) || f[5].StartsWith("/dev/", StringComparison.Ordinal)))
            {
                string kind = "mmap " + Kind(f[5]);
                mappings[kind] = mappings.GetValueOrDefault(kind) + 1;
            }
        }
        return new FdSnapshot(fds, mappings);
    }

    /// <summary>The kind of an fd from its link target.</summary>
    public static string Kind(string target)
    {
        if (target.StartsWith("anon_inode:", StringComparison.Ordinal))
        {
            string name = target["anon_inode:".Length..].Trim('[', ']');
            return name switch
            {
                "bpf_link" => "bpf-link",
                "eventpoll" => "epoll",
                _ when name.StartsWith("kvm-vcpu", StringComparison.Ordinal) => "kvm-vcpu",
                _ => name,
            };
        }
        if (target.StartsWith("socket:", StringComparison.Ordinal))
        {
            return "socket";
        }
        if (target.StartsWith("pipe:", StringComparison.Ordinal))
        {
            return "pipe";
        }
        if (target.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            return "memfd";
        }
        if (target.EndsWith(".dll", StringComparison.Ordinal))
        {
            return "assembly"; // the runtime keeps an assembly it loads lazily open: not a leak, never counted
        }
        if (target.StartsWith("/dev/", StringComparison.Ordinal) && target != "/dev/null")
        {
            return target;
        }
        return "file";
    }

    /// <summary>What grew from this snapshot to <paramref name="later"/>, kind by kind with the new fds; empty when nothing did.</summary>
    public string Growth(FdSnapshot later, int slack) => string.Join(", ", GrowthItems(later, slack).Select(g => g.Text));

    /// <summary>The kinds (fd kinds, "mmap …" mapping kinds) that grew beyond <paramref name="slack"/>.</summary>
    public IReadOnlyList<string> GrowthKinds(FdSnapshot later, int slack) => [.. GrowthItems(later, slack).Select(g => g.Kind)];

    private List<(string Kind, string Text)> GrowthItems(FdSnapshot later, int slack)
    {
        var parts = new List<(string Kind, string Text)>();
        IReadOnlyDictionary<string, int> a = ByKind, b = later.ByKind;
        int slackUsed = 0;
        foreach (string kind in b.Keys.Union(later.Mappings.Keys).Order(StringComparer.Ordinal))
        {
            bool mapping = kind.StartsWith("mmap ", StringComparison.Ordinal);
            int grew = mapping ? later.Mappings.GetValueOrDefault(kind) - Mappings.GetValueOrDefault(kind) : b.GetValueOrDefault(kind) - a.GetValueOrDefault(kind);
            if (grew <= 0 || kind == "assembly")
            {
                continue;
            }
            if (!mapping && s_slackKinds.Contains(kind) && slackUsed + grew <= slack)
            {
                slackUsed += grew;
                continue;
            }
            var known = Fds.Select(f => (f.Fd, f.Target)).ToHashSet();
            string added = mapping ? "" : " [" + string.Join("; ", later.Fds.Where(f => f.Kind == kind && !known.Contains((f.Fd, f.Target))).Take(6)
                .Select(f => $"fd {f.Fd} {f.Target}{(f.Info.Length > 0 ? " " + f.Info : "")}")) + "]";
            int from = mapping ? Mappings.GetValueOrDefault(kind) : a.GetValueOrDefault(kind);
            parts.Add((kind, $"{kind} {from} -> {from + grew}{added}"));
        }
        return parts;
    }

    /// <summary>The BPF program and map ids this process's fds refer to (fdinfo prog_id / map_id).</summary>
    internal (HashSet<uint> Programs, HashSet<uint> Maps) BpfIds()
    {
        var programs = new HashSet<uint>();
        var maps = new HashSet<uint>();
        foreach (FdEntry f in Fds)
        {
            foreach (string field in f.Info.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (field.StartsWith("prog_id=", StringComparison.Ordinal) && uint.TryParse(field["prog_id=".Length..], CultureInfo.InvariantCulture, out uint p))
                {
                    programs.Add(p);
                }
                else if (field.StartsWith("map_id=", StringComparison.Ordinal) && uint.TryParse(field["map_id=".Length..], CultureInfo.InvariantCulture, out uint m))
                {
                    maps.Add(m);
                }
            }
        }
        return (programs, maps);
    }

    private static readonly string[] s_infoKeys = ["prog_type", "prog_id", "map_type", "map_id", "link_type", "link_id", "eventfd-count", "tfd"];

    private static string Info(int fd, string target)
    {
        if (!target.StartsWith("anon_inode:", StringComparison.Ordinal))
        {
            return "";
        }
        try
        {
            var fields = new List<string>();
            foreach (string line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
            {
                int colon = line.IndexOf(':');
                if (colon > 0 && s_infoKeys.Contains(line[..colon]) && fields.Count < 6)
                {
                    fields.Add($"{line[..colon]}={line[(colon + 1)..].Trim()}");
                }
            }
            return string.Join(' ', fields);
        }
        catch (IOException)
        {
            return "";
        }
    }
}
