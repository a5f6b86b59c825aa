using Kscope.Kernel.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Kernel.Bpf.Loader;

using Kscope.Kernel.Bpf.Asm;
using Kscope.Native;
using Kscope.Native.Bpf;

/// <summary>
/// A loaded collection: the kernel objects made from a <see cref="CollectionSpec"/>. Loading creates the
/// maps (writing global data, freezing .rodata, pinning by name), loads the object's BTF, applies CO-RE
/// against the running kernel's BTF, resolves map references, and loads every program. Dispose
/// releases everything (programs, maps, links made by <see cref="AttachAll"/>).
/// </summary>
public sealed unsafe class Collection : IDisposable
{
    private readonly List<Link> _links = new();
    private readonly List<(string Program, string Reason)> _notAttached = new();

    private Collection(CollectionSpec spec)
    {
        Spec = spec;
    }

    public CollectionSpec Spec { get; }

    public Dictionary<string, Map> Maps { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Program> Programs { get; } = new(StringComparer.Ordinal);

    /// <summary>The object's BTF loaded into the kernel (func/line info, map key/value types), when it could be.</summary>
    public SafeFd? Btf { get; private set; }

    /// <summary>Why the object's BTF was not loaded, if it was not (programs then load without line info).</summary>
    public string? BtfError { get; private set; }

    public IReadOnlyList<Link> Links => _links;

    /// <summary>Loads <paramref name="spec"/>; only the programs in <paramref name="programs"/> when given.</summary>
    public static Collection Load(CollectionSpec spec, CollectionOptions? options = null)
    {
        options ??= new CollectionOptions();
        var c = new Collection(spec);
        try
        {
            c.LoadBtf();
            foreach (MapSpec m in spec.Maps.Values)
            {
                c.Maps[m.Name] = c.CreateMap(m, options);
            }
            var core = new CoreResolution(spec, options.CoreCache);
            foreach (ProgramSpec p in spec.Programs.Values)
            {
                if (options.Programs is { } only && !only.Contains(p.Name))
                {
                    continue;
                }
                ProgramSpec ready = c.Prepare(p, core, out List<(int Instruction, string Message)> coreFailures);
                try
                {
                    c.Programs[p.Name] = Program.Load(ready, options.ProgramOptions, c.Btf);
                }
                catch (VerifierException e) when (coreFailures.Count > 0)
                {
                    throw new CoreRelocationException($"load program '{p.Name}': {string.Join("; ", coreFailures.Select(f => f.Message).Distinct(StringComparer.Ordinal))} (instruction {coreFailures[0].Instruction}; the verifier then rejected the poisoned instruction)", e);
                }
                if (options.PinDirectory is { } dir)
                {
                    c.Programs[p.Name].Pin(Path.Combine(dir, p.Name));
                }
            }
            core.Save();
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Programs <see cref="AttachAll"/> loaded but left unattached, with the reason: sections with no automatic
    /// attach point (socket, tc, xdp, cgroup_skb, syscall…: they need a target only the caller knows) or
    /// sections that name no target (a bare <c>uprobe</c>).
    /// </summary>
    public IReadOnlyList<(string Program, string Reason)> NotAttached => _notAttached;

    /// <summary>
    /// Attaches every loaded program whose section name says where (tracepoint/…, raw_tracepoint/…, kprobe/…,
    /// uprobe/…, perf_event, fentry/…, tp_btf/…, lsm/…); the others are skipped and listed in
    /// <see cref="NotAttached"/>. A program that should attach and cannot throws (e.g.
    /// <see cref="KernelFeatureNotSupportedException"/> for a kprobe on a kernel without kprobes); links
    /// made before it stay in <see cref="Links"/> and are released by Dispose.
    /// </summary>
    public IReadOnlyList<Link> AttachAll(Func<ProgramSpec, bool>? filter = null)
    {
        foreach ((string name, Program program) in Programs)
        {
            ProgramSpec spec = Spec.Programs[name];
            if (filter is not null && !filter(spec))
            {
                continue;
            }
            if (WhyNoAutomaticAttach(spec) is { } reason)
            {
                _notAttached.Add((name, reason));
                continue;
            }
            _links.Add(AttachBySection(program, spec));
        }
        return _links;
    }

    /// <summary>Why a program cannot be attached by its section name alone; null when it can (see <see cref="AttachBySection"/>).</summary>
    public static string? WhyNoAutomaticAttach(ProgramSpec spec)
    {
        if (spec.LinkKind is null)
        {
            return $"section '{spec.SectionName}' ({spec.Type}) has no automatic attach point: it needs a target (socket, interface, cgroup) that only the caller knows";
        }
        if (spec.LinkKind != LinkKind.PerfEvent && spec.AttachTo is null)
        {
            return $"section '{spec.SectionName}' names no attach point (want e.g. {spec.LinkKind switch { LinkKind.Uprobe or LinkKind.Uretprobe => "uprobe/BINARY:SYMBOL", LinkKind.Tracepoint => "tracepoint/CATEGORY/NAME", _ => spec.SectionName + "/TARGET" }})";
        }
        return null;
    }

    /// <summary>
    /// Attaches one program the way its section name says. <c>perf_event</c> (no target in the name) samples
    /// the CPU clock at <see cref="Attach.DefaultSamplingFrequency"/> Hz on every CPU; <c>perf_event/HZ</c>
    /// sets the frequency.
    /// </summary>
    public static Link AttachBySection(Program program, ProgramSpec spec)
    {
        if (spec.LinkKind == LinkKind.PerfEvent)
        {
            ulong hz = Attach.DefaultSamplingFrequency;
            if (spec.AttachTo is { } text && (!ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out hz) || hz == 0))
            {
                throw new FormatException($"section '{spec.SectionName}': want perf_event or perf_event/<frequency in Hz>");
            }
            return Attach.PerfEventSampling(program, hz);
        }
        string target = spec.AttachTo ?? throw new InvalidOperationException($"program '{spec.Name}' (section '{spec.SectionName}') names no attach point");
        switch (spec.LinkKind)
        {
            case LinkKind.Tracepoint:
            {
                int slash = target.IndexOf('/');
                if (slash < 0)
                {
                    throw new FormatException($"section '{spec.SectionName}': want tracepoint/<category>/<name>");
                }
                return Attach.Tracepoint(program, target[..slash], target[(slash + 1)..]);
            }
            case LinkKind.RawTracepoint:
                return Attach.RawTracepoint(program, target);
            case LinkKind.Kprobe:
            case LinkKind.Kretprobe:
            {
                int plus = target.IndexOf('+');
                ulong offset = plus > 0 ? Convert.ToUInt64(target[(plus + 1)..], target[(plus + 1)..].StartsWith("0x", StringComparison.Ordinal) ? 16 : 10) : 0;
                return Attach.Kprobe(program, plus > 0 ? target[..plus] : target, offset, spec.LinkKind == LinkKind.Kretprobe);
            }
            case LinkKind.Uprobe:
            case LinkKind.Uretprobe:
            {
                int colon = target.LastIndexOf(':');
                if (colon < 0)
                {
                    throw new FormatException($"section '{spec.SectionName}': want uprobe/<binary>:<symbol>");
                }
                string binary = target[..colon];
                string symbol = target[(colon + 1)..];
                int plus = symbol.IndexOf('+');
                ulong offset = plus > 0 ? Convert.ToUInt64(symbol[(plus + 1)..], symbol[(plus + 1)..].StartsWith("0x", StringComparison.Ordinal) ? 16 : 10) : 0;
                return Attach.Uprobe(program, binary, plus > 0 ? symbol[..plus] : symbol, offset, spec.LinkKind == LinkKind.Uretprobe);
            }
            case LinkKind.Fentry:
            case LinkKind.Fexit:
            case LinkKind.Lsm:
            case LinkKind.TracepointBtf:
                return Attach.Tracing(program, spec.LinkKind.Value);
            default:
                throw new NotSupportedException($"program '{spec.Name}': no automatic attach for section '{spec.SectionName}'");
        }
    }

    public void Dispose()
    {
        Link.DisposeAll(_links);
        _links.Clear();
        foreach (Program p in Programs.Values)
        {
            p.Dispose();
        }
        foreach (Map m in Maps.Values)
        {
            m.Dispose();
        }
        Btf?.Dispose();
    }

    private void LoadBtf()
    {
        if (Spec.KernelBtf is not { } raw)
        {
            return;
        }
        var log = new byte[64 * 1024];
        fixed (byte* p = raw)
        fixed (byte* l = log)
        {
            var attr = new BtfLoadAttr { Btf = (ulong)p, BtfSize = (uint)raw.Length, BtfLogBuf = (ulong)l, BtfLogSize = (uint)log.Length, BtfLogLevel = 1 };
            try
            {
                Btf = Bpf.BtfLoad(ref attr);
            }
            catch (KernelException e)
            {
                int end = Array.IndexOf(log, (byte)0);
                string text = System.Text.Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end).Trim();
                BtfError = $"{e.Message}{(text.Length > 0 ? ": " + text.Split('\n').Last() : "")}";
            }
        }
    }

    private Map CreateMap(MapSpec spec, CollectionOptions options)
    {
        if (spec.PinByName && options.PinDirectory is { } dir && File.Exists(Path.Combine(dir, spec.Name)))
        {
            return Map.FromPin(Path.Combine(dir, spec.Name));
        }
        MapSpec effective = spec;
        if (spec.Section == ".kconfig" && Spec.Externs.Count > 0)
        {
            effective = spec with { Contents = [new(new byte[4], KconfigExterns.Resolve(Spec, spec))] };
        }
        if (spec.Type == MapType.PerfEventArray && spec.MaxEntries == 0)
        {
            effective = spec with { MaxEntries = (uint)PossibleCpus.Count, KeySize = 4, ValueSize = 4 };
        }
        if (spec.Type is MapType.PerfEventArray)
        {
            effective = effective with { BtfKeyTypeId = 0, BtfValueTypeId = 0 };
        }
        Map? inner = null;
        try
        {
            if (spec.InnerMap is { } innerSpec)
            {
                inner = Map.Create(innerSpec);
            }
            // .maps maps carry their key/value types; global data maps their DATASEC (offsets fixed up at BTF load), so
            // bpftool map dump shows each variable
            Map map = Map.Create(effective, spec.Section is ".maps" || spec.BtfValueTypeId != 0 ? Btf : null, inner);
            if (spec.PinByName && options.PinDirectory is { } pinDir)
            {
                map.Pin(Path.Combine(pinDir, spec.Name));
            }
            return map;
        }
        finally
        {
            inner?.Dispose();
        }
    }

    private ProgramSpec Prepare(ProgramSpec spec, CoreResolution core, out List<(int Instruction, string Message)> coreFailures)
    {
        var insns = new InstructionList(spec.Instructions);
        coreFailures = new List<(int, string)>();
        CoreCache.ProgramEntry resolved = core.Resolve(spec);
        if (spec.CoreRelocations is { Count: > 0 } relos)
        {
            CoreRelocator.Apply(insns, relos, resolved.Relocations, coreFailures);
        }
        for (int i = 0; i < insns.Count; i++)
        {
            Instruction ins = insns[i];
            if (ins.IsLoadImm64 && ins.Reference is { } name && (byte)ins.Src is Pseudo.MapFd or Pseudo.MapValue)
            {
                if (!Maps.TryGetValue(name, out Map? map))
                {
                    throw new InvalidOperationException($"program '{spec.Name}' refers to map '{name}', which the object does not define");
                }
                long high = (byte)ins.Src == Pseudo.MapValue ? ins.Constant & unchecked((long)0xffffffff00000000) : 0;
                insns[i] = ins with { Constant = high | (uint)map.Fd.Value };
            }
        }
        BpfFuncInfo[]? funcInfo = null;
        BpfLineInfo[]? lineInfo = null;
        if (Btf is not null && spec.FuncInfos is { Count: > 0 } fis)
        {
            int[] slots = insns.SlotOffsets();
            funcInfo = new BpfFuncInfo[fis.Count];
            for (int i = 0; i < fis.Count; i++)
            {
                funcInfo[i] = new BpfFuncInfo { InsnOff = (uint)slots[fis[i].InstructionIndex], TypeId = (uint)fis[i].TypeId };
            }
            if (spec.LineInfos is { Count: > 0 } lis)
            {
                lineInfo = new BpfLineInfo[lis.Count];
                for (int i = 0; i < lis.Count; i++)
                {
                    lineInfo[i] = new BpfLineInfo
                    {
                        InsnOff = (uint)slots[lis[i].InstructionIndex],
                        FileNameOff = lis[i].FileNameOffset,
                        LineOff = lis[i].LineOffset,
                        LineCol = BpfLineInfo.Pack(lis[i].LineNumber, lis[i].Column),
                    };
                }
            }
        }
        uint attachBtfId = spec.AttachBtfId != 0 ? spec.AttachBtfId : resolved.AttachBtfId;
        return spec with { Instructions = insns, FuncInfo = funcInfo, LineInfo = lineInfo, AttachBtfId = attachBtfId };
    }

    /// <summary>
    /// The kernel-dependent part of loading a collection: CO-RE results and BTF attach ids of each program, from the
    /// per-boot <see cref="CoreCache"/> when it holds them for exactly this object, else resolved against the running
    /// kernel's BTF (read only then) and stored for the next load.
    /// </summary>
    private sealed class CoreResolution
    {
        private readonly CollectionSpec _spec;
        private readonly CoreCache? _cache;
        private readonly byte[]? _key;
        private readonly Dictionary<string, CoreCache.ProgramEntry> _entries;
        private bool _changed;
        private BtfTypes? _target;

        public CoreResolution(CollectionSpec spec, CoreCache? cache)
        {
            _spec = spec;
            _key = cache is null || !NeedsKernelBtf(spec) ? null : CoreCache.Key(spec);
            _cache = _key is null ? null : cache;
            _entries = (_key is null ? null : _cache?.TryLoad(_key)) ?? new(StringComparer.Ordinal);
        }

        private static bool NeedsKernelBtf(CollectionSpec spec) =>
            spec.Programs.Values.Any(p => p.CoreRelocations is { Count: > 0 } || (p.AttachBtfId == 0 && p.Type is ProgramType.Tracing or ProgramType.Lsm && p.AttachTo is not null));

        public CoreCache.ProgramEntry Resolve(ProgramSpec spec)
        {
            int relocations = spec.CoreRelocations?.Count ?? 0;
            if (_entries.TryGetValue(spec.Name, out CoreCache.ProgramEntry? cached) && cached.Relocations.Count == relocations)
            {
                return cached;
            }
            IReadOnlyList<CoreResult> results = [];
            if (relocations > 0 && _spec.Btf is { } local)
            {
                var relocator = new CoreRelocator(local, Target);
                results = spec.CoreRelocations!.Select(relocator.Resolve).ToArray();
            }
            else if (relocations > 0)
            {
                results = Enumerable.Repeat(new CoreResult(false, 0, 0, "CO-RE relocations without the object's BTF"), relocations).ToArray();
            }
            uint attachBtfId = 0;
            if (spec.AttachBtfId == 0 && spec.Type is ProgramType.Tracing or ProgramType.Lsm && spec.AttachTo is { } fn)
            {
                string name = spec.Type == ProgramType.Lsm ? "bpf_lsm_" + fn : spec.ExpectedAttachType == AttachType.TraceRawTp ? "btf_trace_" + fn : fn;
                var kind = spec.ExpectedAttachType == AttachType.TraceRawTp ? Formats.Btf.BtfKind.Typedef : Formats.Btf.BtfKind.Func;
                attachBtfId = (uint)(Target.FindType(name, kind)?.Id ?? throw new KernelException($"load program '{spec.Name}'", Errno.ENOENT, $"the kernel's BTF has no function '{name}' to attach to"));
            }
            var entry = new CoreCache.ProgramEntry(results, attachBtfId);
            _entries[spec.Name] = entry;
            _changed = true;
            return entry;
        }

        private BtfTypes Target => _target ??= VmlinuxBtf.Get();

        /// <summary>Stores what was resolved (not read from the cache) for the next load of this object.</summary>
        public void Save()
        {
            if (_changed && _key is not null)
            {
                _cache?.Store(_key, _entries);
            }
        }
    }
}
