namespace Kscope.Kernel.Bpf;

using Kscope.Kernel.Bpf.Asm;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Native;
using Kscope.Native.Bpf;

/// <summary>
/// A program before it meets the kernel (cilium/ebpf's ProgramSpec): instructions with unresolved map
/// references, type, attach point and BTF metadata. <see cref="Program.Load"/> resolves and loads it.
/// </summary>
public sealed record ProgramSpec
{
    public required string Name { get; init; }

    public required ProgramType Type { get; init; }

    public AttachType? ExpectedAttachType { get; init; }

    /// <summary>Section-derived attach target: "syscalls/sys_enter_openat" for tracepoint/…, the function for kprobe/…, "/bin/bash:readline" for uprobe/….</summary>
    public string? AttachTo { get; init; }

    /// <summary>The ELF section the program came from ("tracepoint/syscalls/sys_enter_openat").</summary>
    public string? SectionName { get; init; }

    public required InstructionList Instructions { get; init; }

    public string License { get; init; } = "GPL";

    /// <summary>kern_version (needed by kprobe programs on kernels before 5.0).</summary>
    public uint KernelVersion { get; init; }

    /// <summary>struct bpf_func_info records (instruction offsets relative to this program's instructions), or null.</summary>
    public BpfFuncInfo[]? FuncInfo { get; init; }

    /// <summary>struct bpf_line_info records, or null.</summary>
    public BpfLineInfo[]? LineInfo { get; init; }

    /// <summary>Program flags (BPF_F_SLEEPABLE = 1 &lt;&lt; 4 …).</summary>
    public uint Flags { get; init; }

    /// <summary>Uprobe/uretprobe, kretprobe, fexit: set by the section parser.</summary>
    public bool IsReturnProbe { get; init; }

    /// <summary>BTF id of the attach target (fentry/fexit/lsm/tp_btf), resolved at load time.</summary>
    public uint AttachBtfId { get; init; }

    /// <summary>Function boundaries for the kernel (from .BTF.ext), indexes into <see cref="Instructions"/>.</summary>
    public IReadOnlyList<FuncInfoRecord>? FuncInfos { get; init; }

    /// <summary>Source lines (from .BTF.ext), indexes into <see cref="Instructions"/>.</summary>
    public IReadOnlyList<LineInfoRecord>? LineInfos { get; init; }

    /// <summary>CO-RE relocations still to apply (at load time, against the running kernel's BTF).</summary>
    public IReadOnlyList<CoreRelocation>? CoreRelocations { get; init; }

    /// <summary>The section's link kind (tracepoint, uprobe…) used by auto-attach.</summary>
    public LinkKind? LinkKind { get; init; }

    public ProgramSpec Copy() => this with { Instructions = new InstructionList(Instructions) };
}
