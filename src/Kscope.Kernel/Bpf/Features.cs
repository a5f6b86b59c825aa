using System.Collections.Concurrent;

namespace Kscope.Kernel.Bpf;

// In this namespace "Asm" names the namespace Kscope.Kernel.Bpf.Asm, so the assembler class is written Asm.Asm.
using Kscope.Kernel.Bpf.Asm;
using Kscope.Native;
using Kscope.Native.Bpf;

/// <summary>
/// Feature probes: ask the kernel (load a tiny program, create a tiny map), never guess from the
/// version. Each probe runs once per process and is cached. EINVAL/E2BIG/ENOTSUPP-style answers mean
/// absent; EPERM means unknown.
/// </summary>
public static unsafe class Features
{
    private static readonly ConcurrentDictionary<string, FeatureStatus> s_cache = new();

    /// <summary>Can a program of this type be loaded? (Tracing, Ext and LSM need a BTF attach target: see <see cref="TracingPrograms"/>.)</summary>
    public static FeatureStatus HasProgramType(ProgramType type) =>
        Cached($"prog:{type}", () => ProbeProgram(type, ExpectedAttachFor(type), null, out _));

    /// <summary>Can a map of this type be created?</summary>
    public static FeatureStatus HasMapType(MapType type) => Cached($"map:{type}", () => ProbeMap(type));

    /// <summary>Can a program of <paramref name="type"/> call <paramref name="helperId"/>? (The bpftool method: read the verifier's answer.)</summary>
    public static FeatureStatus Helper(ProgramType type, int helperId) =>
        Cached($"helper:{type}:{helperId}", () =>
        {
            if (HasProgramType(type) != FeatureStatus.Present)
            {
                return HasProgramType(type) == FeatureStatus.Absent ? FeatureStatus.Absent : FeatureStatus.Unknown;
            }
            var insns = new InstructionList { Asm.Asm.Call(helperId), Asm.Asm.Mov.Imm(Register.R0, 0), Asm.Asm.Exit() };
            FeatureStatus loaded = ProbeProgram(type, ExpectedAttachFor(type), insns, out string log);
            if (loaded == FeatureStatus.Present)
            {
                return FeatureStatus.Present;
            }
            if (log.Contains("invalid func ", StringComparison.Ordinal) || log.Contains("unknown func ", StringComparison.Ordinal) ||
                log.Contains("cannot use helper", StringComparison.Ordinal) || log.Contains("not supported", StringComparison.Ordinal))
            {
                return FeatureStatus.Absent;
            }
            // Rejected for its (missing) arguments: the helper exists for this type.
            return log.Length > 0 ? FeatureStatus.Present : FeatureStatus.Unknown;
        });

    /// <summary>BPF_LINK_CREATE with BPF_PERF_EVENT (5.15): perf-based attach points get a real bpf_link.</summary>
    public static bool HasPerfLink() => PerfLink() == FeatureStatus.Present;

    public static FeatureStatus PerfLink() => Cached("link:perf_event", () =>
    {
        try
        {
            using Program p = LoadTrivial(ProgramType.Tracepoint, null);
            // Target fd -1: a kernel with perf links looks the fd up (EBADF); one without refuses the attach type (EINVAL).
            var attr = new LinkCreateAttr { ProgFd = (uint)p.Fd.Value, TargetFd = uint.MaxValue, AttachType = (uint)AttachType.PerfEvent };
            using SafeFd link = Bpf.LinkCreate(ref attr);
            return FeatureStatus.Present; // never: no perf event has fd -1
        }
        catch (KernelException e) when (e.Errno == Errno.EBADF)
        {
            return FeatureStatus.Present;
        }
        catch (KernelPermissionException)
        {
            return FeatureStatus.Unknown;
        }
        catch (KernelException)
        {
            return FeatureStatus.Absent;
        }
    });

    /// <summary>The kprobe PMU (kprobe/kretprobe attach).</summary>
    public static FeatureStatus KprobePmu() =>
        Directory.Exists("/sys/bus/event_source/devices/kprobe") ? FeatureStatus.Present : FeatureStatus.Absent;

    /// <summary>The uprobe PMU (uprobe/uretprobe attach).</summary>
    public static FeatureStatus UprobePmu() =>
        Directory.Exists("/sys/bus/event_source/devices/uprobe") ? FeatureStatus.Present : FeatureStatus.Absent;

    /// <summary>Raw tracepoint attach (BPF_RAW_TRACEPOINT_OPEN, 4.17).</summary>
    public static FeatureStatus RawTracepointLink() => Cached("link:raw_tracepoint", () =>
    {
        try
        {
            using Program p = LoadTrivial(ProgramType.RawTracepoint, null);
            using Link l = Attach.RawTracepoint(p, "sys_enter");
            return FeatureStatus.Present;
        }
        catch (KernelPermissionException)
        {
            return FeatureStatus.Unknown;
        }
        catch (KernelException)
        {
            return FeatureStatus.Absent;
        }
    });

    /// <summary>
    /// fentry/fexit/LSM/tp_btf: load a program against a BTF attach target. <paramref name="attachBtfId"/>
    /// is the BTF id of a target function (resolved by the caller from vmlinux BTF); 0 means "could not
    /// resolve" and yields Unknown.
    /// </summary>
    public static FeatureStatus TracingPrograms(ProgramType type, AttachType attach, uint attachBtfId) =>
        Cached($"tracing:{type}:{attach}", () =>
        {
            // No shortcut through HasProgramType: a kernel can refuse fentry (what the type probe tries) and
            // still load tp_btf programs (6.18 with lockdown=integrity does).
            if (attachBtfId == 0)
            {
                return HasProgramType(type) == FeatureStatus.Absent ? FeatureStatus.Absent : FeatureStatus.Unknown;
            }
            var spec = new ProgramSpec
            {
                Name = "kscope_probe",
                Type = type,
                ExpectedAttachType = attach,
                AttachBtfId = attachBtfId,
                Instructions = new InstructionList { Asm.Asm.Mov.Imm(Register.R0, 0), Asm.Asm.Exit() },
            };
            try
            {
                using Program p = Program.LoadUnexplained(spec);
                if (type == ProgramType.Tracing && attach is AttachType.TraceFentry or AttachType.TraceFexit)
                {
                    // Loading can succeed while the trampoline cannot be built: attaching decides.
                    using Link l = Attach.Tracing(p, attach == AttachType.TraceFentry ? LinkKind.Fentry : LinkKind.Fexit);
                }
                return FeatureStatus.Present;
            }
            catch (KernelPermissionException)
            {
                // Refused although this process may load other programs: the kernel refuses this kind itself.
                return HasProgramType(ProgramType.SocketFilter) == FeatureStatus.Present ? FeatureStatus.Absent : FeatureStatus.Unknown;
            }
            catch (KernelException)
            {
                return FeatureStatus.Absent;
            }
        });

    /// <summary>Forgets cached answers (tests).</summary>
    internal static void Reset() => s_cache.Clear();

    /// <summary>
    /// A probe's verdict, probed once per process. Unknown is not kept: it comes from a transient condition
    /// (no descriptor to spare, no memory, a permission dropped for a while), and a later call may decide.
    /// </summary>
    private static FeatureStatus Cached(string key, Func<FeatureStatus> probe)
    {
        if (s_cache.TryGetValue(key, out FeatureStatus known))
        {
            return known;
        }
        FeatureStatus status = probe();
        return status == FeatureStatus.Unknown ? status : s_cache.GetOrAdd(key, status);
    }

    internal static AttachType? ExpectedAttachFor(ProgramType type) => type switch
    {
        ProgramType.CgroupSockAddr => AttachType.CgroupInet4Connect,
        ProgramType.CgroupSockopt => AttachType.CgroupGetsockopt,
        ProgramType.SkLookup => AttachType.SkLookup,
        ProgramType.Netfilter => AttachType.Netfilter,
        _ => null,
    };

    private static Program LoadTrivial(ProgramType type, AttachType? attach) =>
        Program.LoadUnexplained(new ProgramSpec
        {
            Name = "kscope_probe",
            Type = type,
            ExpectedAttachType = attach,
            Instructions = new InstructionList { Asm.Asm.Mov.Imm(Register.R0, 0), Asm.Asm.Exit() },
        });

    private static FeatureStatus ProbeProgram(ProgramType type, AttachType? attach, InstructionList? insns, out string log)
    {
        log = "";
        if (type is ProgramType.Tracing or ProgramType.Lsm or ProgramType.Ext)
        {
            return ProbeBtfAttached(type);
        }
        if (type is ProgramType.StructOps)
        {
            return FeatureStatus.Unknown; // needs a struct_ops map and its BTF to test
        }
        try
        {
            using Program p = Program.LoadUnexplained(new ProgramSpec
            {
                Name = "kscope_probe",
                Type = type,
                ExpectedAttachType = attach,
                Flags = type == ProgramType.Syscall ? 1u << 4 : 0, // BPF_F_SLEEPABLE: syscall programs must be sleepable
                Instructions = insns ?? new InstructionList { Asm.Asm.Mov.Imm(Register.R0, 0), Asm.Asm.Exit() },
            });
            return FeatureStatus.Present;
        }
        catch (VerifierException e)
        {
            log = e.Log;
            return FeatureStatus.Absent;
        }
        catch (KernelPermissionException)
        {
            return FeatureStatus.Unknown;
        }
        catch (KernelException e) when (e.Errno is Errno.EINVAL or Errno.E2BIG or Errno.ENOTSUPP or Errno.EOPNOTSUPP)
        {
            return FeatureStatus.Absent;
        }
        catch (KernelException)
        {
            return FeatureStatus.Unknown;
        }
    }

    /// <summary>
    /// Tracing, LSM and extension programs need a BTF attach target. As libbpf does, load one against
    /// BTF id 1 (never a function): a kernel that supports the type complains about the target
    /// ("… is not a function"); one that does not refuses the type itself.
    /// </summary>
    private static FeatureStatus ProbeBtfAttached(ProgramType type)
    {
        var spec = new ProgramSpec
        {
            Name = "kscope_probe",
            Type = type,
            ExpectedAttachType = type switch { ProgramType.Tracing => AttachType.TraceFentry, ProgramType.Lsm => AttachType.LsmMac, _ => null },
            AttachBtfId = 1,
            Instructions = new InstructionList { Asm.Asm.Mov.Imm(Register.R0, 0), Asm.Asm.Exit() },
        };
        try
        {
            using Program p = Program.LoadUnexplained(spec, new ProgramLoadOptions { LogLevel = 1 });
            return FeatureStatus.Present;
        }
        catch (VerifierException e)
        {
            // An extension program without a target program is refused with "Cannot replace kernel functions"
            // by kernels that have the type (libbpf's probe reads the same message).
            return e.Log.Contains("is not a function", StringComparison.Ordinal) || e.Log.Contains("not a struct", StringComparison.Ordinal)
                || e.Log.Contains("Cannot replace kernel functions", StringComparison.Ordinal)
                ? FeatureStatus.Present
                : FeatureStatus.Absent;
        }
        catch (KernelPermissionException)
        {
            // Refused although this process may load other programs: the kernel refuses the type itself.
            return HasProgramType(ProgramType.SocketFilter) == FeatureStatus.Present ? FeatureStatus.Absent : FeatureStatus.Unknown;
        }
        catch (KernelException)
        {
            return FeatureStatus.Absent;
        }
    }

    private static FeatureStatus ProbeMap(MapType type)
    {
        uint pageSize = (uint)Environment.SystemPageSize;
        MapSpec spec = type switch
        {
            MapType.RingBuf or MapType.UserRingBuf => new MapSpec { Name = "kscope_probe", Type = type, MaxEntries = pageSize },
            MapType.Queue or MapType.Stack => new MapSpec { Name = "kscope_probe", Type = type, ValueSize = 4, MaxEntries = 1 },
            MapType.StackTrace => new MapSpec { Name = "kscope_probe", Type = type, KeySize = 4, ValueSize = 8, MaxEntries = 1 },
            MapType.LpmTrie => new MapSpec { Name = "kscope_probe", Type = type, KeySize = 8, ValueSize = 4, MaxEntries = 1, Flags = 1 },
            MapType.CgroupStorage or MapType.PerCpuCgroupStorage => new MapSpec { Name = "kscope_probe", Type = type, KeySize = 16, ValueSize = 8 },
            MapType.BloomFilter => new MapSpec { Name = "kscope_probe", Type = type, ValueSize = 4, MaxEntries = 1 },
            MapType.Arena => new MapSpec { Name = "kscope_probe", Type = type, MaxEntries = 1, Flags = 1 << 10 },
            MapType.ArrayOfMaps or MapType.HashOfMaps => new MapSpec { Name = "kscope_probe", Type = type, KeySize = 4, ValueSize = 4, MaxEntries = 1 },
            _ => new MapSpec { Name = "kscope_probe", Type = type, KeySize = 4, ValueSize = 4, MaxEntries = 1 },
        };
        if (type is MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or MapType.CgrpStorage or MapType.StructOps)
        {
            return FeatureStatus.Unknown; // these need BTF key/value types to create
        }
        Map? inner = null;
        try
        {
            if (type is MapType.ArrayOfMaps or MapType.HashOfMaps)
            {
                inner = Map.Create(new MapSpec { Name = "kscope_inner", Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
            }
            using Map m = Map.Create(spec, null, inner);
            return FeatureStatus.Present;
        }
        catch (KernelPermissionException)
        {
            return FeatureStatus.Unknown;
        }
        catch (KernelException e) when (e.Errno is Errno.EINVAL or Errno.E2BIG or Errno.ENOTSUPP or Errno.EOPNOTSUPP)
        {
            return FeatureStatus.Absent;
        }
        catch (KernelException)
        {
            return FeatureStatus.Unknown;
        }
        finally
        {
            inner?.Dispose();
        }
    }
}
