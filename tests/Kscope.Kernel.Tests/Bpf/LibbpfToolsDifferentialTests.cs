using System.Text.Json;
using System.Text.RegularExpressions;
using Kscope.Formats.Elf;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Native;
using Kscope.Native.Bpf;

namespace Kscope.Kernel.Tests.Bpf;

/// <summary>
/// Real-world CO-RE objects built by others: every BCC libbpf-tools executable (Debian's libbpf-tools)
/// embeds its eBPF object (a libbpf skeleton). Each object is extracted and loaded twice, by libbpf
/// (<c>bpftool prog loadall</c>) and by kscope (<see cref="CollectionSpec.LoadObject"/> on the executable
/// itself, every program loaded without attaching, as <c>kscope bpf load</c> does). Where libbpf loads
/// the object, kscope must too, with the same programs, types, translated sizes and tags (the tag is
/// the kernel's hash of the instructions as submitted, so equal tags mean equal CO-RE results). Where
/// libbpf fails (fentry/fexit are refused by this kernel, functions or fields it lacks, maps a tool
/// sizes at run time), kscope must fail with a message naming the same program or map.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(LeakCollection.Name)] // counts this process's fds: alone, or other tests' fds count as its leaks
public partial class LibbpfToolsDifferentialTests(ITestOutputHelper output)
{
    /// <summary>Objects libbpf loads and kscope does not, with the precise reason. Keep empty; say why when not.</summary>
    private static readonly Dictionary<string, string> s_knownGaps = new(StringComparer.Ordinal);

    private sealed record Outcome(bool Ok, Dictionary<string, (string Type, long Xlated, string Tag)> Programs, string? Error);

    [Fact]
    public void EveryTool_LoadsInKscopeWhereverLibbpfLoadsIt()
    {
        Requires.Root();
        string bpftool = Requires.Tool("bpftool", "bpftool");
        List<string> tools = InstalledTools();
        Pinning.EnsureBpfFs();
        string work = Path.Combine(Path.GetTempPath(), $"kscope-libbpf-tools-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        var rows = new List<string>();
        var failures = new List<string>();
        int both = 0, neither = 0, kscopeOnly = 0, gaps = 0, programs = 0;
        // Warm up what a process loads or caches once (assemblies, vmlinux BTF, feature probes) before counting fds.
        File.WriteAllBytes(Path.Combine(work, "warmup.bpf.o"), Assert.Single(EmbeddedBpfObjects.Find(File.ReadAllBytes(tools[0]))).Slice(File.ReadAllBytes(tools[0])).ToArray());
        _ = LoadWithBpftool(bpftool, Path.Combine(work, "warmup.bpf.o"), "warmup");
        _ = Culprit("prog 'x': warm-up");
        _ = LoadWithKscope(tools[0]);
        _ = LoadWithKscope(tools[^1]);
        FdCounter.LeakCheck leaks = FdCounter.Begin();
        try
        {
            foreach (string tool in tools)
            {
                string name = Path.GetFileName(tool);
                byte[] bytes = File.ReadAllBytes(tool);
                EmbeddedBpfObject embedded = Assert.Single(EmbeddedBpfObjects.Find(bytes));
                string obj = Path.Combine(work, name + ".bpf.o");
                File.WriteAllBytes(obj, embedded.Slice(bytes).ToArray());

                Outcome libbpf = LoadWithBpftool(bpftool, obj, name);
                Outcome kscope = LoadWithKscope(tool);
                string verdict;
                if (libbpf.Ok && kscope.Ok)
                {
                    both++;
                    programs += libbpf.Programs.Count;
                    string? mismatch = Compare(libbpf.Programs, kscope.Programs);
                    verdict = mismatch is null ? "same" : "MISMATCH " + mismatch;
                    if (mismatch is not null)
                    {
                        failures.Add($"{name}: {mismatch}");
                    }
                }
                else if (libbpf.Ok)
                {
                    if (s_knownGaps.TryGetValue(name, out string? why))
                    {
                        gaps++;
                        verdict = "KNOWN GAP: " + why;
                    }
                    else
                    {
                        verdict = "KSCOPE FAILS: " + kscope.Error;
                        failures.Add($"{name}: libbpf loads {libbpf.Programs.Count} program(s), kscope fails: {kscope.Error}");
                    }
                }
                else if (kscope.Ok)
                {
                    kscopeOnly++;
                    verdict = $"kscope loads, libbpf fails ({libbpf.Error})";
                }
                else
                {
                    neither++;
                    string? culprit = Culprit(libbpf.Error!);
                    bool named = culprit is null || kscope.Error!.Contains($"'{culprit}'", StringComparison.Ordinal);
                    verdict = named ? $"both fail: {kscope.Error}" : $"both fail, kscope names another culprit than libbpf's '{culprit}': {kscope.Error}";
                    if (!named)
                    {
                        failures.Add($"{name}: libbpf fails on '{culprit}' ({libbpf.Error}), kscope: {kscope.Error}");
                    }
                }
                rows.Add($"{name,-15} {(libbpf.Ok ? libbpf.Programs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) : "fail"),7} {(kscope.Ok ? kscope.Programs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) : "fail"),7}  {verdict}");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        output.WriteLine($"{"TOOL",-15} {"LIBBPF",7} {"KSCOPE",7}  RESULT");
        foreach (string row in rows)
        {
            output.WriteLine(row);
        }
        output.WriteLine($"{tools.Count} objects: {both} load in both ({programs} programs, same types, xlated sizes and tags), {neither} fail in both, " +
            $"{kscopeOnly} load only in kscope, {gaps} known gap(s), {failures.Count} problem(s); fds {leaks.Before.Fds.Count} -> {FdCounter.Count()}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(both >= 20, $"only {both} objects loaded in both: is libbpf-tools the expected build?");
        leaks.AssertNoLeak($"loading {tools.Count} libbpf-tools objects");
    }

    [Fact]
    public void Execsnoop_LoadObjectOnTheExecutable_ReadsTheEmbeddedObject()
    {
        string tool = InstalledTools().FirstOrDefault(t => Path.GetFileName(t) == "execsnoop") ?? "/usr/sbin/execsnoop";
        if (!File.Exists(tool))
        {
            Requires.Unmet("libbpf-tools is not installed (apt-get install libbpf-tools)");
        }
        CollectionSpec spec = CollectionSpec.LoadObject(tool);
        Assert.StartsWith($"embedded in {tool} at offset 0x", spec.Origin);
        Assert.Equal(["tracepoint__syscalls__sys_enter_execve", "tracepoint__syscalls__sys_exit_execve"], spec.Programs.Keys.Order().ToArray());
        Assert.Equal("tracepoint/syscalls/sys_enter_execve", spec.Programs["tracepoint__syscalls__sys_enter_execve"].SectionName);
        Assert.Contains(spec.Maps.Values, m => m.Type == MapType.PerfEventArray);
        Assert.NotNull(spec.Btf?.FindType("event", Kscope.Formats.Btf.BtfKind.Struct));
    }

    [Fact]
    public void Biolatency_KconfigExtern_LinuxKernelVersionIsTheRunningKernels()
    {
        Requires.Root();
        const string tool = "/usr/sbin/biolatency";
        if (!File.Exists(tool))
        {
            Requires.Unmet("libbpf-tools is not installed (apt-get install libbpf-tools)");
        }
        CollectionSpec spec = CollectionSpec.LoadObject(tool);
        ExternSpec version = Assert.Single(spec.Externs);
        Assert.Equal("LINUX_KERNEL_VERSION", version.Name);
        MapSpec kconfig = Assert.Single(spec.Maps.Values, m => m.Section == ".kconfig");
        using Collection c = Collection.Load(spec);
        var value = new byte[kconfig.ValueSize];
        Assert.True(c.Maps[kconfig.Name].Lookup(new byte[4], value));
        uint code = BitConverter.ToUInt32(value, (int)version.Offset);
        string[] release = Posix.Uname().Release.Split('.', '-');
        Assert.Equal(uint.Parse(release[0], System.Globalization.CultureInfo.InvariantCulture), code >> 16);
        Assert.Equal(uint.Parse(release[1], System.Globalization.CultureInfo.InvariantCulture), (code >> 8) & 0xff);
        Assert.Null(c.BtfError); // the .kconfig DATASEC was fixed up so the kernel takes the object's BTF
    }

    private static List<string> InstalledTools()
    {
        (int code, string files, _) = Tools.Which("dpkg-query") is { } dpkg ? Tools.Run(dpkg, "-L", "libbpf-tools") : (1, "", "");
        if (code != 0)
        {
            Requires.Unmet("libbpf-tools is not installed (apt-get install libbpf-tools; .ci/install-deps does)");
        }
        return files.Split('\n').Select(l => l.Trim())
            .Where(l => l.StartsWith("/usr/sbin/", StringComparison.Ordinal) && File.Exists(l) && new FileInfo(l).LinkTarget is null)
            .Order(StringComparer.Ordinal).ToList();
    }

    private static Outcome LoadWithBpftool(string bpftool, string obj, string name)
    {
        string dir = $"/sys/fs/bpf/kscope_lbt_{Environment.ProcessId}_{name}";
        var result = new Dictionary<string, (string, long, string)>(StringComparer.Ordinal);
        try
        {
            (int code, string stdout, string stderr) = Tools.Run(bpftool, "prog", "loadall", obj, dir);
            if (code != 0)
            {
                string reason = (stdout + "\n" + stderr).Split('\n').Select(l => l.Trim())
                    .LastOrDefault(l => l.StartsWith("libbpf: ", StringComparison.Ordinal) && !l.Contains("failed to load object", StringComparison.Ordinal)
                        && !l.Contains("-- END", StringComparison.Ordinal) && (l.Contains("fail", StringComparison.Ordinal) || l.Contains("rror", StringComparison.Ordinal)))
                    ?? $"bpftool exit {code}";
                return new Outcome(false, result, reason);
            }
            foreach (string pin in Directory.GetFiles(dir))
            {
                using JsonDocument d = JsonDocument.Parse(Tools.Check(bpftool, "prog", "show", "pinned", pin, "-j"));
                JsonElement p = d.RootElement;
                result[p.GetProperty("name").GetString()!] = (p.GetProperty("type").GetString()!, p.GetProperty("bytes_xlated").GetInt64(), p.GetProperty("tag").GetString()!);
            }
            return new Outcome(true, result, null);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true); // unlinking the pins releases the programs
            }
        }
    }

    private static Outcome LoadWithKscope(string tool)
    {
        var result = new Dictionary<string, (string, long, string)>(StringComparer.Ordinal);
        try
        {
            CollectionSpec spec = CollectionSpec.LoadObject(tool);
            using Collection c = Collection.Load(spec);
            foreach ((string name, Program p) in c.Programs)
            {
                BpfProgInfo info = p.Info();
                result[name] = (TypeName(p.Type), info.XlatedProgLen, Tag(info));
            }
            return new Outcome(true, result, null);
        }
        catch (Exception e) when (e is KernelException or Formats.MalformedDataException or NotSupportedException or InvalidOperationException or CoreRelocationException)
        {
            return new Outcome(false, result, e.Message);
        }
    }

    private static string TypeName(ProgramType t) => t switch
    {
        ProgramType.RawTracepoint => "raw_tracepoint",
        ProgramType.PerfEvent => "perf_event",
        ProgramType.SocketFilter => "socket_filter",
        ProgramType.SchedCls => "sched_cls",
        _ => t.ToString().ToLowerInvariant(),
    };

    private static unsafe string Tag(BpfProgInfo info) => Convert.ToHexStringLower(new ReadOnlySpan<byte>(info.Tag, 8));

    private static string? Compare(Dictionary<string, (string Type, long Xlated, string Tag)> libbpf, Dictionary<string, (string Type, long Xlated, string Tag)> kscope)
    {
        if (libbpf.Count != kscope.Count)
        {
            return $"libbpf loaded {libbpf.Count} programs ({string.Join(", ", libbpf.Keys.Order())}), kscope {kscope.Count} ({string.Join(", ", kscope.Keys.Order())})";
        }
        foreach ((string name, var theirs) in libbpf)
        {
            if (!kscope.TryGetValue(name, out var ours))
            {
                return $"kscope has no program '{name}'";
            }
            if (theirs != ours)
            {
                return $"program '{name}': libbpf {theirs.Type}/{theirs.Xlated} B/tag {theirs.Tag}, kscope {ours.Type}/{ours.Xlated} B/tag {ours.Tag}";
            }
        }
        return null;
    }

    /// <summary>The program or map libbpf blames: "prog 'X': …" or "map 'X': …".</summary>
    private static string? Culprit(string libbpfError) =>
        CulpritPattern().Match(libbpfError) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"(?:prog|map) '([^']+)'")]
    private static partial Regex CulpritPattern();
}
