using Kscope.Formats.Elf;
using Kscope.Kernel.Tracing;

namespace Kscope.Kernel.Bpf;

using Kscope.Native;
using Kscope.Native.Bpf;
using Kscope.Native.Perf;

/// <summary>
/// Attaching loaded programs. Perf-based points (tracepoint, kprobe, uprobe, perf_event) open a perf
/// event and bind the program with BPF_LINK_CREATE(BPF_PERF_EVENT) when the kernel has perf links
/// (5.15), else with PERF_EVENT_IOC_SET_BPF. Points this kernel lacks throw
/// <see cref="KernelFeatureNotSupportedException"/> ("not supported by this kernel").
/// </summary>
public static unsafe class Attach
{
    private const string EventSources = "/sys/bus/event_source/devices";

    /// <summary>A tracepoint by category and name (tracefs events/&lt;category&gt;/&lt;name&gt;/id), on every CPU and task.</summary>
    public static Link Tracepoint(Program program, string category, string name)
    {
        string what = $"tracepoint {category}:{name}";
        RequireType(program, what, ProgramType.Tracepoint);
        ulong id = Tracefs.TracepointId(category, name);
        var attr = new PerfEventAttr
        {
            Type = PerfEvents.TypeTracepoint,
            Config = id,
            SamplePeriod = 1,
            WakeupEvents = 1,
        };
        SafeFd perf = PerfEvents.Open(ref attr, -1, 0, -1, 0, $"attach {what}: perf_event_open");
        return BindPerfEvent(program, perf, what, LinkKind.Tracepoint);
    }

    /// <summary>A raw tracepoint (BPF_RAW_TRACEPOINT_OPEN) by name, e.g. "sys_enter", "sched_switch".</summary>
    public static Link RawTracepoint(Program program, string name)
    {
        string what = $"raw_tracepoint {name}";
        RequireType(program, what, ProgramType.RawTracepoint, ProgramType.RawTracepointWritable);
        byte[] n = Map.Utf8Z(name);
        fixed (byte* pn = n)
        {
            var attr = new RawTracepointOpenAttr { Name = (ulong)pn, ProgFd = (uint)program.Fd.Value };
            try
            {
                return new Link(what, LinkKind.RawTracepoint, Bpf.RawTracepointOpen(ref attr), null);
            }
            catch (KernelException e)
            {
                throw new KernelException($"attach {what}", e.Errno, e.Errno == Errno.ENOENT ? "no such tracepoint in this kernel" : e.Hint, e);
            }
        }
    }

    /// <summary>A kprobe or kretprobe on a kernel function (+offset) through the kprobe PMU.</summary>
    public static Link Kprobe(Program program, string symbol, ulong offset = 0, bool isReturn = false)
    {
        string what = $"{(isReturn ? "kretprobe" : "kprobe")} '{symbol}'";
        RequireType(program, what, ProgramType.Kprobe);
        int pmuType = PmuType("kprobe", what, "4.17", "the kprobe PMU is missing (kernel built without CONFIG_KPROBES)");
        byte[] func = Map.Utf8Z(symbol);
        fixed (byte* pf = func)
        {
            var attr = new PerfEventAttr
            {
                Type = (uint)pmuType,
                Config = isReturn ? 1UL << RetprobeBit("kprobe") : 0,
                KprobeFunc = (ulong)pf,
                ProbeOffset = offset,
                SamplePeriod = 1,
                WakeupEvents = 1,
            };
            SafeFd perf = PerfEvents.Open(ref attr, -1, 0, -1, 0, $"attach {what}: perf_event_open");
            return BindPerfEvent(program, perf, what, isReturn ? LinkKind.Kretprobe : LinkKind.Kprobe);
        }
    }

    /// <summary>
    /// A uprobe or uretprobe on <paramref name="symbol"/> (+<paramref name="offset"/>) in the ELF file at
    /// <paramref name="binaryPath"/>; the symbol is resolved to a file offset through the ELF reader.
    /// <paramref name="pid"/> -1 probes every process that maps the file.
    /// </summary>
    public static Link Uprobe(Program program, string binaryPath, string? symbol, ulong offset = 0, bool isReturn = false, int pid = -1)
    {
        string what = $"{(isReturn ? "uretprobe" : "uprobe")} {binaryPath}:{symbol ?? $"0x{offset:x}"}";
        RequireType(program, what, ProgramType.Kprobe);
        ulong fileOffset = symbol is null ? offset : ResolveSymbolOffset(binaryPath, symbol, what) + offset;
        int pmuType = PmuType("uprobe", what, "4.17", "the uprobe PMU is missing (kernel built without CONFIG_UPROBE_EVENTS)");
        byte[] path = Map.Utf8Z(Path.GetFullPath(binaryPath));
        fixed (byte* pp = path)
        {
            var attr = new PerfEventAttr
            {
                Type = (uint)pmuType,
                Config = isReturn ? 1UL << RetprobeBit("uprobe") : 0,
                UprobePath = (ulong)pp,
                ProbeOffset = fileOffset,
                SamplePeriod = 1,
                WakeupEvents = 1,
            };
            SafeFd perf = pid >= 0
                ? PerfEvents.Open(ref attr, pid, -1, -1, 0, $"attach {what}: perf_event_open")
                : PerfEvents.Open(ref attr, -1, 0, -1, 0, $"attach {what}: perf_event_open");
            return BindPerfEvent(program, perf, what, isReturn ? LinkKind.Uretprobe : LinkKind.Uprobe);
        }
    }

    /// <summary>Runs a perf_event program on every sample of an open perf event (e.g. CPU-clock sampling); takes ownership of the fd.</summary>
    public static Link PerfEvent(Program program, SafeFd perfEvent, string? description = null)
    {
        string what = description ?? "perf_event";
        try
        {
            RequireType(program, what, ProgramType.PerfEvent);
        }
        catch
        {
            perfEvent.Dispose(); // owned from the call on, also when refused
            throw;
        }
        return BindPerfEvent(program, perfEvent, what, LinkKind.PerfEvent);
    }

    /// <summary>The sampling frequency of a <c>perf_event</c> section attached by name (<c>perf_event/HZ</c> overrides it).</summary>
    public const ulong DefaultSamplingFrequency = 99;

    /// <summary>
    /// Runs a perf_event program on CPU-clock samples taken <paramref name="frequency"/> times a second on
    /// every online CPU, for every task (what a <c>perf_event</c> section attaches to by name). One
    /// <see cref="Link"/> whose <see cref="Link.Parts"/> are the per-CPU events.
    /// </summary>
    public static Link PerfEventSampling(Program program, ulong frequency = DefaultSamplingFrequency)
    {
        string what = $"perf_event cpu-clock {frequency} Hz on every CPU";
        RequireType(program, what, ProgramType.PerfEvent);
        if (frequency == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(frequency), $"attach {what}: the frequency must be at least 1 Hz");
        }
        var parts = new List<Link>();
        try
        {
            for (int cpu = 0; cpu < PossibleCpus.Count; cpu++)
            {
                var attr = new PerfEventAttr { Type = PerfEvents.TypeSoftware, Config = PerfEvents.SoftwareCpuClock, SampleFreq = frequency, Flags = PerfEventAttrFlags.Freq };
                SafeFd perf;
                try
                {
                    perf = PerfEvents.Open(ref attr, -1, cpu, -1, 0, $"attach {what}: perf_event_open cpu {cpu}");
                }
                catch (KernelException e) when (e.Errno == Errno.ENODEV)
                {
                    continue; // offline CPU
                }
                parts.Add(BindPerfEvent(program, perf, $"perf_event cpu-clock {frequency} Hz cpu {cpu}", LinkKind.PerfEvent));
            }
        }
        catch
        {
            parts.ForEach(p => p.Dispose());
            throw;
        }
        return new Link(what, LinkKind.PerfEvent, parts);
    }

    /// <summary>
    /// fentry/fexit/fmod_ret/tp_btf/LSM: the target was fixed when the program was loaded (attach_btf_id),
    /// so attaching is BPF_RAW_TRACEPOINT_OPEN with no name (5.5+).
    /// </summary>
    public static Link Tracing(Program program, LinkKind kind)
    {
        string what = $"{(kind == LinkKind.TracepointBtf ? "tp_btf" : kind.ToString().ToLowerInvariant())} '{program.Spec?.AttachTo ?? program.Name}'";
        RequireType(program, what, ProgramType.Tracing, ProgramType.Lsm, ProgramType.Ext);
        var attr = new RawTracepointOpenAttr { Name = 0, ProgFd = (uint)program.Fd.Value };
        try
        {
            return new Link(what, kind, Bpf.RawTracepointOpen(ref attr), null);
        }
        catch (KernelException e) when (e.Errno is Errno.ENOTSUPP or Errno.EOPNOTSUPP)
        {
            throw new KernelFeatureNotSupportedException($"attach {what}", "5.5", e.Errno, "BPF trampolines are unavailable");
        }
    }

    /// <summary>File offset of a function symbol in an ELF file (.symtab, then .dynsym).</summary>
    public static ulong ResolveSymbolOffset(string binaryPath, string symbol, string? operation = null)
    {
        ElfFile elf;
        try
        {
            elf = ElfFile.Parse(InputFile.ReadAllBytes(binaryPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KernelException($"{operation ?? "resolve"}: open {binaryPath}", e is FileNotFoundException or DirectoryNotFoundException ? Errno.ENOENT : Errno.EACCES);
        }
        ElfSymbol? found = elf.Symbols.FirstOrDefault(s => s.Name == symbol && s.IsDefined && s.Value != 0)
            ?? elf.DynamicSymbols.FirstOrDefault(s => s.Name == symbol && s.IsDefined && s.Value != 0);
        if (found is null)
        {
            throw new KeyNotFoundException($"{operation ?? "resolve"}: symbol '{symbol}' not found in {binaryPath}");
        }
        if (elf.ProgramHeaders.Count > 0 && elf.TryGetFileOffset(found.Value, out ulong fileOffset))
        {
            return fileOffset;
        }
        ElfSection section = elf.GetSection(found.SectionIndex);
        return found.Value - section.Address + section.Offset;
    }

    /// <summary>The dynamic PMU type of /sys/bus/event_source/devices/&lt;pmu&gt;/type, or a clear "not supported".</summary>
    internal static int PmuType(string pmu, string what, string minimumKernel, string missing)
    {
        string path = Path.Combine(EventSources, pmu, "type");
        if (!File.Exists(path))
        {
            throw new KernelFeatureNotSupportedException($"attach {what}", minimumKernel, Errno.ENOENT, missing);
        }
        return int.Parse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>format/retprobe says "config:0": which config bit makes a return probe.</summary>
    private static int RetprobeBit(string pmu)
    {
        string path = Path.Combine(EventSources, pmu, "format", "retprobe");
        string text = File.Exists(path) ? File.ReadAllText(path).Trim() : "config:0";
        return int.TryParse(text.AsSpan(text.IndexOf(':') + 1), out int bit) ? bit : 0;
    }

    private static Link BindPerfEvent(Program program, SafeFd perf, string what, LinkKind kind)
    {
        try
        {
            if (Features.HasPerfLink())
            {
                var attr = new LinkCreateAttr { ProgFd = (uint)program.Fd.Value, TargetFd = (uint)perf.Value, AttachType = (uint)AttachType.PerfEvent };
                SafeFd link = Bpf.LinkCreate(ref attr);
                return new Link(what, kind, link, perf);
            }
            PerfEvents.SetBpf(perf, program.Fd);
            PerfEvents.Enable(perf);
            return new Link(what, kind, null, perf);
        }
        catch (KernelException e)
        {
            perf.Dispose();
            throw new KernelException($"attach {what}", e.Errno, e.Hint, e);
        }
        catch
        {
            perf.Dispose();
            throw;
        }
    }

    private static void RequireType(Program program, string what, params ProgramType[] types)
    {
        if (!types.Contains(program.Type))
        {
            throw new ArgumentException($"attach {what}: program '{program.Name}' is {program.Type}, needs {string.Join(" or ", types)}");
        }
    }
}
