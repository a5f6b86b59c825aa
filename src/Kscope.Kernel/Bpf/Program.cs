using System.Runtime.InteropServices;

namespace Kscope.Kernel.Bpf;

using Kscope.Kernel.Bpf.Asm;
using Kscope.Native;
using Kscope.Native.Bpf;

/// <summary>
/// A loaded BPF program (its fd closes on Dispose). <see cref="Load"/> runs the verifier: first without a
/// log (fast path), then, on failure, again with a log buffer that grows on ENOSPC until the whole log
/// fits, and throws <see cref="VerifierException"/> with its tail and source line.
/// </summary>
public sealed unsafe class Program : IDisposable
{
    private const uint MinLogSize = 64 * 1024;
    private const uint MaxLogSize = 64 * 1024 * 1024;

    private Program(SafeFd fd, string name, ProgramType type, ProgramSpec? spec)
    {
        Fd = fd;
        Name = name;
        Type = type;
        Spec = spec;
    }

    public SafeFd Fd { get; }

    public string Name { get; }

    public ProgramType Type { get; }

    public ProgramSpec? Spec { get; }

    /// <summary>The verifier log when loaded with <see cref="ProgramLoadOptions.LogLevel"/> &gt; 0.</summary>
    public string? VerifierLog { get; private init; }

    /// <summary>
    /// Loads a linked spec whose map references are already resolved (fds in the LD_IMM64 instructions).
    /// <paramref name="btf"/> is the object's BTF in the kernel, needed for func and line info.
    /// </summary>
    /// <remarks>
    /// When the kernel refuses the program and the feature probe (<see cref="Features.HasProgramType"/>) says
    /// the kernel has no programs of this type (e.g. fentry/fexit/tp_btf or LSM on a kernel without BPF
    /// trampolines or BPF LSM), the error is a <see cref="KernelFeatureNotSupportedException"/> naming the
    /// feature, not the permission or verifier error the load returned.
    /// </remarks>
    public static Program Load(ProgramSpec spec, ProgramLoadOptions? options = null, SafeFd? btf = null)
    {
        try
        {
            return LoadUnexplained(spec, options, btf);
        }
        catch (KernelException e) when (e is not KernelFeatureNotSupportedException && Unsupported(spec, e) is { } unsupported)
        {
            throw unsupported;
        }
    }

    /// <summary>What a refused load means when the probe says the kernel lacks the program type; null when it has it (or cannot tell).</summary>
    private static KernelFeatureNotSupportedException? Unsupported(ProgramSpec spec, KernelException e)
    {
        FeatureStatus status = spec.Type is ProgramType.Tracing or ProgramType.Lsm && spec.ExpectedAttachType is { } attach && spec.AttachBtfId != 0
            ? Features.TracingPrograms(spec.Type, attach, spec.AttachBtfId) // tp_btf can load where fentry cannot
            : Features.HasProgramType(spec.Type);
        if (status != FeatureStatus.Absent)
        {
            return null;
        }
        (string feature, string? minimum, string detail) = (spec.Type, spec.ExpectedAttachType) switch
        {
            (ProgramType.Tracing, AttachType.TraceFentry) => ("fentry", "5.5", "BPF trampolines (BPF_PROG_TYPE_TRACING)"),
            (ProgramType.Tracing, AttachType.TraceFexit) => ("fexit", "5.5", "BPF trampolines (BPF_PROG_TYPE_TRACING)"),
            (ProgramType.Tracing, AttachType.ModifyReturn) => ("fmod_ret", "5.7", "BPF trampolines (BPF_PROG_TYPE_TRACING)"),
            (ProgramType.Tracing, AttachType.TraceRawTp) => ("tp_btf", "5.5", "BTF-typed raw tracepoints (BPF_PROG_TYPE_TRACING)"),
            (ProgramType.Tracing, _) => ("tracing", "5.5", "BPF_PROG_TYPE_TRACING programs"),
            (ProgramType.Lsm, _) => ("lsm", "5.7", "BPF LSM programs (BPF_PROG_TYPE_LSM, CONFIG_BPF_LSM)"),
            (ProgramType.Ext, _) => ("freplace", "5.6", "extension programs (BPF_PROG_TYPE_EXT)"),
            _ => (spec.Type.ToString(), null, $"{spec.Type} programs"),
        };
        string where = spec.SectionName ?? (spec.AttachTo is { } to ? $"{feature}/{to}" : feature);
        string why = "";
        if (minimum is not null && Version.TryParse(minimum, out Version? v) && KernelVersionCode() >= (uint)((v.Major << 16) | (v.Minor << 8)))
        {
            // New enough: the kernel was built without it or a policy (lockdown, sysctl) refuses it.
            why = " (built without it, or refused by policy such as lockdown)";
            minimum = null;
        }
        return new KernelFeatureNotSupportedException($"load {feature} program '{spec.Name}' ({where})", minimum, e.Errno,
            $"the kernel refuses {detail}{why}; the feature probe says absent (the load failed with {ErrnoText.Name(e.Errno)})");
    }

    /// <summary>Loads without asking the feature probes why a load failed (the probes themselves load this way).</summary>
    internal static Program LoadUnexplained(ProgramSpec spec, ProgramLoadOptions? options = null, SafeFd? btf = null)
    {
        options ??= ProgramLoadOptions.Default;
        Memlock.RaiseOnce();
        foreach (Instruction i in spec.Instructions)
        {
            if (i.IsLoadImm64 && i.Reference is { } r && (byte)i.Src is Pseudo.MapFd or Pseudo.MapValue && (int)i.Constant == 0)
            {
                throw new InvalidOperationException($"load program '{spec.Name}': map reference '{r}' was not resolved to an fd");
            }
        }
        byte[] code = spec.Instructions.Encode();
        byte[] license = Map.Utf8Z(spec.License);
        bool withBtf = btf is not null && spec.FuncInfo is { Length: > 0 };
        fixed (byte* insns = code)
        fixed (byte* lic = license)
        fixed (BpfFuncInfo* funcInfo = spec.FuncInfo)
        fixed (BpfLineInfo* lineInfo = spec.LineInfo)
        {
            var attr = new ProgLoadAttr
            {
                ProgType = (uint)spec.Type,
                InsnCnt = (uint)(code.Length / Instruction.SlotSize),
                Insns = (ulong)insns,
                License = (ulong)lic,
                KernVersion = spec.KernelVersion != 0 ? spec.KernelVersion : KernelVersionCode(),
                ProgFlags = spec.Flags,
                ExpectedAttachType = (uint)(spec.ExpectedAttachType ?? 0),
                AttachBtfId = spec.AttachBtfId,
            };
            attr.SetName(spec.Name);
            if (withBtf)
            {
                attr.ProgBtfFd = (uint)btf!.Value;
                attr.FuncInfoRecSize = (uint)sizeof(BpfFuncInfo);
                attr.FuncInfo = (ulong)funcInfo;
                attr.FuncInfoCnt = (uint)spec.FuncInfo!.Length;
                if (spec.LineInfo is { Length: > 0 })
                {
                    attr.LineInfoRecSize = (uint)sizeof(BpfLineInfo);
                    attr.LineInfo = (ulong)lineInfo;
                    attr.LineInfoCnt = (uint)spec.LineInfo.Length;
                }
            }
            if (options.AttachBtfObjFd is { } objFd)
            {
                attr.AttachBtfObjFd = (uint)objFd.Value;
            }

            uint logSize = options.LogLevel > 0 ? Math.Max(options.LogSize, MinLogSize) : 0;
            while (true)
            {
                byte[]? log = logSize > 0 ? new byte[logSize] : null;
                fixed (byte* logBuf = log)
                {
                    attr.LogLevel = logSize > 0 ? Math.Max(options.LogLevel, 1u) : 0;
                    attr.LogSize = logSize;
                    attr.LogBuf = (ulong)logBuf;
                    attr.LogTrueSize = 0;
                    Errno errno = Bpf.TryProgLoad(ref attr, out SafeFd? fd); // the gateway retries EAGAIN
                    if (fd is not null)
                    {
                        return new Program(fd, spec.Name, spec.Type, spec) { VerifierLog = log is null ? null : ObjectText(log) };
                    }
                    if (errno is Errno.EPERM && log is null)
                    {
                        string? hint = spec.Type is ProgramType.Tracing or ProgramType.Lsm or ProgramType.Ext && Environment.IsPrivilegedProcess
                            ? $"the kernel refuses {spec.Type} programs (section '{spec.SectionName}') even to root: no BPF trampolines here (fentry/fexit/fmod_ret/LSM); libbpf fails the same way"
                            : Bpf.Error(BpfCommand.ProgLoad, errno).Hint;
                        throw new KernelPermissionException($"load program '{spec.Name}': bpf(BPF_PROG_LOAD)", errno, hint);
                    }
                    if (log is null)
                    {
                        // Failed without a log: load again with one to learn why.
                        logSize = Math.Max(options.LogSize, MinLogSize);
                        continue;
                    }
                    if (errno == Errno.ENOSPC && logSize < MaxLogSize)
                    {
                        logSize = attr.LogTrueSize > logSize ? attr.LogTrueSize : logSize * 4;
                        continue;
                    }
                    string text = ObjectText(log);
                    if (text.Length == 0 || errno is Errno.EMFILE or Errno.ENFILE)
                    {
                        // No log, or the program verified and only its descriptor could not be made: not a verdict.
                        throw KernelException.FromErrno($"load program '{spec.Name}' ({spec.Type})", errno, Bpf.Error(BpfCommand.ProgLoad, errno).Hint);
                    }
                    throw new VerifierException(spec.Name, errno, text, errno == Errno.ENOSPC);
                }
            }
        }
    }

    /// <summary>Opens a program pinned on bpffs.</summary>
    public static Program FromPin(string path) => FromFd(Pinning.Get(path));

    /// <summary>Opens a program by kernel id.</summary>
    public static Program FromId(uint id)
    {
        var attr = new GetIdAttr { StartId = id };
        return FromFd(Bpf.ProgGetFdById(ref attr));
    }

    /// <summary>Wraps an fd (takes ownership), reading name and type from the kernel.</summary>
    /// <remarks>The fd is owned from the call on: closed when it is not a program or its info cannot be read.</remarks>
    public static Program FromFd(SafeFd fd)
    {
        try
        {
            BpfObjectKind.Require(fd, BpfObjectKind.Program, "open program");
            BpfProgInfo info = GetInfo(fd);
            return new Program(fd, ObjectName.Read(new ReadOnlySpan<byte>(info.Name, 16)), (ProgramType)info.Type, null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Ids of every program loaded in the kernel.</summary>
    public static IEnumerable<uint> AllIds()
    {
        var attr = new GetIdAttr();
        while (Bpf.ProgGetNextId(ref attr) == Errno.None)
        {
            yield return attr.NextId;
            attr.StartId = attr.NextId;
        }
    }

    /// <summary>BPF_OBJ_GET_INFO_BY_FD: id, tag, translated and JIT-ed sizes, run statistics.</summary>
    public BpfProgInfo Info() => GetInfo(Fd);

    public uint Id => Info().Id;

    /// <summary>The kernel's translated instructions (after its rewrites), decoded.</summary>
    public InstructionList TranslatedInstructions()
    {
        BpfProgInfo info = Info();
        var bytes = new byte[info.XlatedProgLen];
        fixed (byte* p = bytes)
        {
            BpfProgInfo request = default;
            request.XlatedProgLen = (uint)bytes.Length;
            request.XlatedProgInsns = (ulong)p;
            var attr = new ObjGetInfoByFdAttr { BpfFd = (uint)Fd.Value, InfoLen = (uint)sizeof(BpfProgInfo), Info = (ulong)&request };
            Bpf.ObjGetInfoByFd(ref attr);
        }
        return InstructionList.Decode(bytes);
    }

    /// <summary>
    /// BPF_PROG_TEST_RUN: runs the program in the kernel on <paramref name="data"/> (packet programs) or
    /// <paramref name="context"/> (raw tracepoint, syscall…) <paramref name="repeat"/> times.
    /// <paramref name="cpu"/> &gt;= 0 runs it on that CPU (BPF_F_TEST_RUN_ON_CPU: raw tracepoint programs, 5.10+;
    /// they take no repeat, pass 0).
    /// </summary>
    public TestRunResult TestRun(ReadOnlySpan<byte> data = default, ReadOnlySpan<byte> context = default, uint repeat = 1, int dataOutSize = 0, int contextOutSize = 0, int cpu = -1)
    {
        var dataOut = new byte[dataOutSize > 0 ? dataOutSize : (data.IsEmpty ? 0 : data.Length + 256)];
        var ctxOut = new byte[contextOutSize];
        fixed (byte* din = data)
        fixed (byte* dout = dataOut)
        fixed (byte* cin = context)
        fixed (byte* cout = ctxOut)
        {
            var attr = new ProgTestRunAttr
            {
                ProgFd = (uint)Fd.Value,
                DataIn = data.IsEmpty ? 0 : (ulong)din,
                DataSizeIn = (uint)data.Length,
                DataOut = dataOut.Length == 0 ? 0 : (ulong)dout,
                DataSizeOut = (uint)dataOut.Length,
                CtxIn = context.IsEmpty ? 0 : (ulong)cin,
                CtxSizeIn = (uint)context.Length,
                CtxOut = ctxOut.Length == 0 ? 0 : (ulong)cout,
                CtxSizeOut = (uint)ctxOut.Length,
                Repeat = repeat,
                Flags = cpu >= 0 ? 1u : 0, // BPF_F_TEST_RUN_ON_CPU
                Cpu = cpu >= 0 ? (uint)cpu : 0,
            };
            try
            {
                Bpf.ProgTestRun(ref attr);
            }
            catch (KernelException e)
            {
                throw new KernelException($"test run program '{Name}' ({Type})", e.Errno,
                    e.Errno is Errno.ENOTSUPP or Errno.EOPNOTSUPP or Errno.EINVAL ? "this program type does not support BPF_PROG_TEST_RUN with this input" : e.Hint, e);
            }
            return new TestRunResult(attr.Retval, TimeSpan.FromTicks(attr.Duration / 100),
                dataOut.AsSpan(0, (int)Math.Min(attr.DataSizeOut, (uint)dataOut.Length)).ToArray(),
                ctxOut.AsSpan(0, (int)Math.Min(attr.CtxSizeOut, (uint)ctxOut.Length)).ToArray());
        }
    }

    /// <summary>Pins on bpffs.</summary>
    public void Pin(string path) => Pinning.Pin(Fd, path, $"pin program '{Name}'");

    public void Dispose() => Fd.Dispose();

    public override string ToString() => $"program '{Name}' ({Type})";

    internal static BpfProgInfo GetInfo(SafeFd fd)
    {
        BpfProgInfo info = default;
        var attr = new ObjGetInfoByFdAttr { BpfFd = (uint)fd.Value, InfoLen = (uint)sizeof(BpfProgInfo), Info = (ulong)&info };
        Bpf.ObjGetInfoByFd(ref attr);
        return info;
    }

    /// <summary>LINUX_VERSION_CODE of the running kernel (a.b.c -> a&lt;&lt;16 | b&lt;&lt;8 | min(c,255)).</summary>
    public static uint KernelVersionCode()
    {
        string release = Posix.Uname().Release;
        string[] parts = release.Split('.', '-', '+');
        uint Part(int i) => i < parts.Length && uint.TryParse(parts[i], out uint v) ? v : 0;
        return (Part(0) << 16) | (Part(1) << 8) | Math.Min(Part(2), 255);
    }

    private static string ObjectText(byte[] log)
    {
        int end = Array.IndexOf(log, (byte)0);
        return System.Text.Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end).TrimEnd();
    }
}
