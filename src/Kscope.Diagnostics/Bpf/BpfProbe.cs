using System.Text.Json;
using Kscope.Kernel;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Asm;
using Kscope.Kernel.Btf;

namespace Kscope.Diagnostics.Bpf;

/// <summary><c>kscope bpf probe</c>: which program, map, link/attach types and helpers this kernel has (three-valued).</summary>
public static class BpfProbe
{
    /// <summary>Program types whose helpers are probed.</summary>
    public static readonly ProgramType[] HelperProgramTypes =
        [ProgramType.Kprobe, ProgramType.Tracepoint, ProgramType.RawTracepoint, ProgramType.PerfEvent, ProgramType.SocketFilter, ProgramType.SchedCls, ProgramType.Xdp];

    public sealed record Report(
        IReadOnlyList<(ProgramType Type, FeatureStatus Status)> ProgramTypes,
        IReadOnlyList<(MapType Type, FeatureStatus Status)> MapTypes,
        IReadOnlyList<(string Name, FeatureStatus Status)> AttachTypes,
        IReadOnlyList<(ProgramType Type, BpfHelper Helper, FeatureStatus Status)> Helpers);

    public static Report Run(bool helpers = true)
    {
        var programs = Enum.GetValues<ProgramType>().Where(t => t != ProgramType.Unspec).Select(t => (t, Features.HasProgramType(t))).ToList();
        var maps = Enum.GetValues<MapType>().Where(t => t != MapType.Unspec).Select(t => (t, Features.HasMapType(t))).ToList();
        uint fentryTarget = 0, lsmTarget = 0;
        try
        {
            var vmlinux = VmlinuxBtf.Get();
            fentryTarget = (uint)(vmlinux.FindType("bpf_fentry_test1", Formats.Btf.BtfKind.Func)?.Id ?? vmlinux.FindType("do_sys_openat2", Formats.Btf.BtfKind.Func)?.Id ?? 0);
            lsmTarget = (uint)(vmlinux.FindType("bpf_lsm_file_open", Formats.Btf.BtfKind.Func)?.Id ?? 0);
        }
        catch (Exception e) when (e is IOException or Kscope.Native.KernelException or Formats.MalformedDataException)
        {
        }
        var attach = new List<(string, FeatureStatus)>
        {
            ("tracepoint", Features.HasProgramType(ProgramType.Tracepoint)),
            ("raw_tracepoint", Features.RawTracepointLink()),
            ("perf_event (bpf_link)", Features.PerfLink()),
            ("kprobe/kretprobe (kprobe PMU)", Features.KprobePmu()),
            ("uprobe/uretprobe (uprobe PMU)", Features.UprobePmu()),
            ("fentry", Features.TracingPrograms(ProgramType.Tracing, AttachType.TraceFentry, fentryTarget)),
            ("fexit", Features.TracingPrograms(ProgramType.Tracing, AttachType.TraceFexit, fentryTarget)),
            ("lsm", Features.TracingPrograms(ProgramType.Lsm, AttachType.LsmMac, lsmTarget)),
        };
        var helperResults = new List<(ProgramType, BpfHelper, FeatureStatus)>();
        if (helpers)
        {
            foreach (ProgramType t in HelperProgramTypes)
            {
                foreach (BpfHelper h in Enum.GetValues<BpfHelper>().Where(h => h != BpfHelper.Unspec))
                {
                    helperResults.Add((t, h, Features.Helper(t, (int)h)));
                }
            }
        }
        return new Report(programs, maps, attach, helperResults);
    }

    public static string KernelName(ProgramType t) => Snake(t.ToString());

    public static string KernelName(MapType t) => Snake(t.ToString());

    public static string KernelName(BpfHelper h) => "bpf_" + Snake(h.ToString());

    public static void WriteText(TextWriter o, Report r)
    {
        o.WriteLine("Program types:");
        foreach ((ProgramType t, FeatureStatus s) in r.ProgramTypes)
        {
            o.WriteLine($"  {KernelName(t),-26} {Word(s)}");
        }
        o.WriteLine("Map types:");
        foreach ((MapType t, FeatureStatus s) in r.MapTypes)
        {
            o.WriteLine($"  {KernelName(t),-26} {Word(s)}");
        }
        o.WriteLine("Attach types:");
        foreach ((string n, FeatureStatus s) in r.AttachTypes)
        {
            o.WriteLine($"  {n,-32} {Word(s)}");
        }
        foreach (var group in r.Helpers.GroupBy(h => h.Type))
        {
            o.WriteLine($"Helpers for {KernelName(group.Key)}: {string.Join(", ", group.Where(h => h.Status == FeatureStatus.Present).Select(h => KernelName(h.Helper)))}");
        }
    }

    /// <summary>The schema of <c>bpf probe --json</c> (docs/json.md).</summary>
    public const string Schema = "kscope.bpf.probe/v1";

    public static void WriteJson(Stream stream, Report r)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("schema", Schema);
        WriteGroup(w, "program_types", r.ProgramTypes.Select(x => (KernelName(x.Type), x.Status)));
        WriteGroup(w, "map_types", r.MapTypes.Select(x => (KernelName(x.Type), x.Status)));
        WriteGroup(w, "attach_types", r.AttachTypes);
        w.WriteStartArray("helpers");
        foreach (var group in r.Helpers.GroupBy(h => h.Type))
        {
            w.WriteStartObject();
            w.WriteString("program_type", KernelName(group.Key));
            WriteGroup(w, "helpers", group.Select(h => (KernelName(h.Helper), h.Status)));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>[{"name": …, "status": "present"|"absent"|"unknown"}]: names are data (some have spaces), never keys (docs/json.md).</summary>
    private static void WriteGroup(Utf8JsonWriter w, string name, IEnumerable<(string Name, FeatureStatus Status)> items)
    {
        w.WriteStartArray(name);
        foreach ((string n, FeatureStatus s) in items)
        {
            w.WriteStartObject();
            w.WriteString("name", n);
            w.WriteString("status", Word(s));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static string Word(FeatureStatus s) => s switch
    {
        FeatureStatus.Present => "present",
        FeatureStatus.Absent => "absent",
        _ => "unknown",
    };

    private static string Snake(string pascal)
    {
        var sb = new System.Text.StringBuilder();
        for (int k = 0; k < pascal.Length; k++)
        {
            char c = pascal[k];
            bool boundary = k > 0 && char.IsUpper(c) && (!char.IsUpper(pascal[k - 1]) || (k + 1 < pascal.Length && char.IsLower(pascal[k + 1])));
            if (boundary)
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString().Replace("per_cpu", "percpu").Replace("ring_buf", "ringbuf").Replace("dev_map", "devmap")
            .Replace("sock_map", "sockmap").Replace("sock_hash", "sockhash").Replace("cpu_map", "cpumap").Replace("xsk_map", "xskmap")
            .Replace("seg6_local", "seg6local").Replace("sock_array", "sockarray");
    }
}
