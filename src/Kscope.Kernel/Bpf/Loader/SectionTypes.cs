namespace Kscope.Kernel.Bpf.Loader;

/// <summary>ELF section name -> program type, expected attach type and attach target, as libbpf names them.</summary>
public static class SectionTypes
{
    private static readonly (string Prefix, ProgramType Type, AttachType? Attach, LinkKind? Link, bool Return)[] s_table =
    [
        ("tracepoint/", ProgramType.Tracepoint, null, LinkKind.Tracepoint, false),
        ("tp/", ProgramType.Tracepoint, null, LinkKind.Tracepoint, false),
        ("raw_tracepoint/", ProgramType.RawTracepoint, null, LinkKind.RawTracepoint, false),
        ("raw_tp/", ProgramType.RawTracepoint, null, LinkKind.RawTracepoint, false),
        ("tp_btf/", ProgramType.Tracing, AttachType.TraceRawTp, LinkKind.TracepointBtf, false),
        ("kprobe/", ProgramType.Kprobe, null, LinkKind.Kprobe, false),
        ("kretprobe/", ProgramType.Kprobe, null, LinkKind.Kretprobe, true),
        // Bare names (SEC("kprobe"), SEC("usdt")…): the program is attached by the tool's own code, with a target it computes.
        ("kprobe", ProgramType.Kprobe, null, null, false),
        ("kretprobe", ProgramType.Kprobe, null, null, true),
        ("ksyscall", ProgramType.Kprobe, null, null, false),
        ("kretsyscall", ProgramType.Kprobe, null, null, true),
        ("usdt", ProgramType.Kprobe, null, null, false),
        ("tracepoint", ProgramType.Tracepoint, null, null, false),
        ("tp", ProgramType.Tracepoint, null, null, false),
        ("raw_tracepoint", ProgramType.RawTracepoint, null, null, false),
        ("raw_tp", ProgramType.RawTracepoint, null, null, false),
        ("uprobe/", ProgramType.Kprobe, null, LinkKind.Uprobe, false),
        ("uretprobe/", ProgramType.Kprobe, null, LinkKind.Uretprobe, true),
        ("uprobe", ProgramType.Kprobe, null, LinkKind.Uprobe, false),
        ("uretprobe", ProgramType.Kprobe, null, LinkKind.Uretprobe, true),
        ("perf_event", ProgramType.PerfEvent, null, LinkKind.PerfEvent, false),
        ("fentry/", ProgramType.Tracing, AttachType.TraceFentry, LinkKind.Fentry, false),
        ("fexit/", ProgramType.Tracing, AttachType.TraceFexit, LinkKind.Fexit, true),
        ("fmod_ret/", ProgramType.Tracing, AttachType.ModifyReturn, LinkKind.Fentry, false),
        ("lsm/", ProgramType.Lsm, AttachType.LsmMac, LinkKind.Lsm, false),
        ("socket", ProgramType.SocketFilter, null, null, false),
        ("cgroup_skb/ingress", ProgramType.CgroupSkb, AttachType.CgroupInetIngress, null, false),
        ("cgroup_skb/egress", ProgramType.CgroupSkb, AttachType.CgroupInetEgress, null, false),
        ("cgroup/skb", ProgramType.CgroupSkb, null, null, false),
        ("tc", ProgramType.SchedCls, null, null, false),
        ("classifier", ProgramType.SchedCls, null, null, false),
        ("xdp", ProgramType.Xdp, AttachType.Xdp, null, false),
        ("syscall", ProgramType.Syscall, null, null, false),
    ];

    /// <summary>Classifies a section name; null when it is not a program section kscope knows.</summary>
    public static (ProgramType Type, AttachType? Attach, LinkKind? Link, bool IsReturn, string? AttachTo)? Classify(string section)
    {
        foreach (var e in s_table)
        {
            if (section.StartsWith(e.Prefix, StringComparison.Ordinal))
            {
                string rest = section[e.Prefix.Length..];
                if (!e.Prefix.EndsWith('/') && rest.Length > 0 && rest[0] != '/')
                {
                    continue; // "tcx" must not match "tc"
                }
                // "uprobe//usr/bin/bash:readline": the target keeps its own leading slash.
                string target = e.Prefix.EndsWith('/') || rest.Length == 0 ? rest : rest[1..];
                return (e.Type, e.Attach, e.Link, e.Return, target.Length > 0 ? target : null);
            }
        }
        return null;
    }
}
