namespace Kscope.Native.Bpf;

/// <summary>
/// The bpf(2) gateway: one method per command (BPF_MAP_CREATE -> <see cref="MapCreate"/>), each taking
/// its piece of <c>union bpf_attr</c> by reference. Commands that return an fd hand back a
/// <see cref="SafeFd"/> or throw <see cref="KernelException"/>; element and iteration commands, which
/// fail routinely (ENOENT at the end of a map), return the <see cref="Errno"/> instead of throwing so
/// hot loops stay allocation-free. Only BPF_PROG_LOAD retries EAGAIN (the verifier gives up on a
/// pending signal); everything else reports it.
/// </summary>
public static unsafe class Bpf
{
    private const int ProgLoadAttempts = 5;

    /// <summary>Raw call: the kernel's result, or -1 with errno in <paramref name="errno"/>. Internal: callers use the commands below.</summary>
    internal static int Invoke<T>(BpfCommand command, ref T attr, out Errno errno) where T : unmanaged
    {
        fixed (T* p = &attr)
        {
            int result = (int)Interop.Libc.SyscallBpf(SyscallNumbers.Bpf, (nint)command, (nint)p, sizeof(T));
            errno = result < 0 ? (Errno)System.Runtime.InteropServices.Marshal.GetLastSystemError() : Errno.None;
            return result;
        }
    }

    public static SafeFd MapCreate(ref MapCreateAttr attr) => Fd(BpfCommand.MapCreate, ref attr);

    public static Errno MapLookupElem(ref MapElemAttr attr) => Status(BpfCommand.MapLookupElem, ref attr);

    public static Errno MapUpdateElem(ref MapElemAttr attr) => Status(BpfCommand.MapUpdateElem, ref attr);

    public static Errno MapDeleteElem(ref MapElemAttr attr) => Status(BpfCommand.MapDeleteElem, ref attr);

    public static Errno MapGetNextKey(ref MapElemAttr attr) => Status(BpfCommand.MapGetNextKey, ref attr);

    public static Errno MapLookupAndDeleteElem(ref MapElemAttr attr) => Status(BpfCommand.MapLookupAndDeleteElem, ref attr);

    /// <summary>BPF_MAP_FREEZE: only <see cref="MapElemAttr.MapFd"/> is read.</summary>
    public static void MapFreeze(ref MapElemAttr attr) => Checked(BpfCommand.MapFreeze, ref attr);

    public static Errno MapLookupBatch(ref MapBatchAttr attr) => Status(BpfCommand.MapLookupBatch, ref attr);

    public static Errno MapLookupAndDeleteBatch(ref MapBatchAttr attr) => Status(BpfCommand.MapLookupAndDeleteBatch, ref attr);

    public static Errno MapUpdateBatch(ref MapBatchAttr attr) => Status(BpfCommand.MapUpdateBatch, ref attr);

    public static Errno MapDeleteBatch(ref MapBatchAttr attr) => Status(BpfCommand.MapDeleteBatch, ref attr);

    /// <summary>BPF_PROG_LOAD, retrying EAGAIN a few times (cilium/ebpf does the same).</summary>
    public static SafeFd ProgLoad(ref ProgLoadAttr attr)
    {
        Errno errno = TryProgLoad(ref attr, out SafeFd? fd);
        return fd ?? throw Error(BpfCommand.ProgLoad, errno);
    }

    /// <summary>
    /// BPF_PROG_LOAD for loaders that act on the errno (reload with a verifier log, grow it on ENOSPC): the
    /// program's fd and <see cref="Errno.None"/>, or null and the errno. EAGAIN (the verifier gave up because a
    /// signal is pending) is retried here, a few times, and reported only if it persists; no other command
    /// retries it.
    /// </summary>
    public static Errno TryProgLoad(ref ProgLoadAttr attr, out SafeFd? fd)
    {
        for (int attempt = 1; ; attempt++)
        {
            int result = Invoke(BpfCommand.ProgLoad, ref attr, out Errno errno);
            if (result >= 0)
            {
                fd = new SafeFd(result);
                return Errno.None;
            }
            if (errno != Errno.EAGAIN || attempt == ProgLoadAttempts)
            {
                fd = null;
                return errno;
            }
        }
    }

    public static void ObjPin(ref ObjPinAttr attr) => Checked(BpfCommand.ObjPin, ref attr);

    public static SafeFd ObjGet(ref ObjPinAttr attr) => Fd(BpfCommand.ObjGet, ref attr);

    public static void ProgAttach(ref ProgAttachAttr attr) => Checked(BpfCommand.ProgAttach, ref attr);

    public static void ProgDetach(ref ProgAttachAttr attr) => Checked(BpfCommand.ProgDetach, ref attr);

    public static void ProgTestRun(ref ProgTestRunAttr attr) => Checked(BpfCommand.ProgTestRun, ref attr);

    /// <summary>ENOENT when <see cref="GetIdAttr.StartId"/> was the last id.</summary>
    public static Errno ProgGetNextId(ref GetIdAttr attr) => Status(BpfCommand.ProgGetNextId, ref attr);

    public static Errno MapGetNextId(ref GetIdAttr attr) => Status(BpfCommand.MapGetNextId, ref attr);

    public static Errno BtfGetNextId(ref GetIdAttr attr) => Status(BpfCommand.BtfGetNextId, ref attr);

    public static Errno LinkGetNextId(ref GetIdAttr attr) => Status(BpfCommand.LinkGetNextId, ref attr);

    public static SafeFd ProgGetFdById(ref GetIdAttr attr) => Fd(BpfCommand.ProgGetFdById, ref attr);

    public static SafeFd MapGetFdById(ref GetIdAttr attr) => Fd(BpfCommand.MapGetFdById, ref attr);

    public static SafeFd BtfGetFdById(ref GetIdAttr attr) => Fd(BpfCommand.BtfGetFdById, ref attr);

    public static SafeFd LinkGetFdById(ref GetIdAttr attr) => Fd(BpfCommand.LinkGetFdById, ref attr);

    public static void ObjGetInfoByFd(ref ObjGetInfoByFdAttr attr) => Checked(BpfCommand.ObjGetInfoByFd, ref attr);

    public static SafeFd RawTracepointOpen(ref RawTracepointOpenAttr attr) => Fd(BpfCommand.RawTracepointOpen, ref attr);

    public static SafeFd BtfLoad(ref BtfLoadAttr attr) => Fd(BpfCommand.BtfLoad, ref attr);

    public static SafeFd LinkCreate(ref LinkCreateAttr attr) => Fd(BpfCommand.LinkCreate, ref attr);

    public static void LinkDetach(ref LinkDetachAttr attr) => Checked(BpfCommand.LinkDetach, ref attr);

    public static SafeFd EnableStats(ref EnableStatsAttr attr) => Fd(BpfCommand.EnableStats, ref attr);

    /// <summary>The error for a failed command, with a hint for the errnos users meet.</summary>
    public static KernelException Error(BpfCommand command, Errno errno) =>
        KernelException.FromErrno($"bpf({CommandName(command)})", errno, Hint(command, errno));

    /// <summary>The kernel's spelling: BPF_MAP_CREATE, BPF_PROG_LOAD…</summary>
    public static string CommandName(BpfCommand command) => command switch
    {
        BpfCommand.MapCreate => "BPF_MAP_CREATE",
        BpfCommand.MapLookupElem => "BPF_MAP_LOOKUP_ELEM",
        BpfCommand.MapUpdateElem => "BPF_MAP_UPDATE_ELEM",
        BpfCommand.MapDeleteElem => "BPF_MAP_DELETE_ELEM",
        BpfCommand.MapGetNextKey => "BPF_MAP_GET_NEXT_KEY",
        BpfCommand.ProgLoad => "BPF_PROG_LOAD",
        BpfCommand.ObjPin => "BPF_OBJ_PIN",
        BpfCommand.ObjGet => "BPF_OBJ_GET",
        BpfCommand.ProgAttach => "BPF_PROG_ATTACH",
        BpfCommand.ProgDetach => "BPF_PROG_DETACH",
        BpfCommand.ProgTestRun => "BPF_PROG_TEST_RUN",
        BpfCommand.ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
        BpfCommand.RawTracepointOpen => "BPF_RAW_TRACEPOINT_OPEN",
        BpfCommand.BtfLoad => "BPF_BTF_LOAD",
        BpfCommand.MapFreeze => "BPF_MAP_FREEZE",
        BpfCommand.LinkCreate => "BPF_LINK_CREATE",
        BpfCommand.LinkDetach => "BPF_LINK_DETACH",
        BpfCommand.EnableStats => "BPF_ENABLE_STATS",
        _ => "BPF_" + SnakeUpper(command.ToString()),
    };

    private static string? Hint(BpfCommand command, Errno errno) => errno switch
    {
        Errno.EPERM or Errno.EACCES => "needs CAP_BPF (plus CAP_PERFMON for tracing) or root; lockdown or seccomp may also refuse bpf()",
        Errno.ENOSYS => "bpf(2) is not implemented here: a kernel built without CONFIG_BPF_SYSCALL, or a user-mode emulator (qemu-user) that does not pass it on",
        Errno.E2BIG when command == BpfCommand.MapCreate => "the map is larger than the kernel allows",
        Errno.ENOMEM => "raise RLIMIT_MEMLOCK (kernels before 5.11 charge bpf memory to it)",
        _ => null,
    };

    private static SafeFd Fd<T>(BpfCommand command, ref T attr) where T : unmanaged
    {
        int fd = Invoke(command, ref attr, out Errno errno);
        return fd >= 0 ? new SafeFd(fd) : throw Error(command, errno);
    }

    private static Errno Status<T>(BpfCommand command, ref T attr) where T : unmanaged
    {
        Invoke(command, ref attr, out Errno errno);
        return errno;
    }

    private static void Checked<T>(BpfCommand command, ref T attr) where T : unmanaged
    {
        if (Invoke(command, ref attr, out Errno errno) < 0)
        {
            throw Error(command, errno);
        }
    }

    private static string SnakeUpper(string pascal)
    {
        var sb = new System.Text.StringBuilder();
        foreach (char c in pascal)
        {
            if (char.IsUpper(c) && sb.Length > 0)
            {
                sb.Append('_');
            }
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }
}
