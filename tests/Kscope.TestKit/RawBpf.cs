using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Kscope.TestKit;

/// <summary>
/// Just enough bpf(2) for the probes, written apart from kscope's own loader so that a bug there cannot
/// make a probe say "absent" (union bpf_attr, include/uapi/linux/bpf.h: BPF_PROG_LOAD and
/// BPF_RAW_TRACEPOINT_OPEN fields at their uapi offsets).
/// </summary>
internal static unsafe partial class RawBpf
{
    public const uint SocketFilter = 1, Tracing = 26, Lsm = 29;
    public const uint TraceRawTp = 23, TraceFentry = 24, LsmMac = 27;

    private const int ProgLoad = 5, RawTracepointOpen = 17;

    // syscall(2) is variadic; a fixed-arity import is how x86_64 and arm64 pass these register arguments.
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long command, void* attr, long size);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    private static long BpfNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 => 280,
        _ => throw new PlatformNotSupportedException("bpf(2) number for " + RuntimeInformation.ProcessArchitecture),
    };

    /// <summary>Loads "r0 = 0; exit" and, for tracing types, attaches it; null on success, else what failed with its errno and log.</summary>
    public static string? LoadAndAttach(uint type, uint expectedAttach, uint attachBtfId, bool attach)
    {
        int fd = Load(type, expectedAttach, attachBtfId, out string? error);
        if (fd < 0)
        {
            return error;
        }
        try
        {
            if (!attach)
            {
                return null;
            }
            byte* a = stackalloc byte[16];
            new Span<byte>(a, 16).Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(a + 8, 4), (uint)fd); // name = 0: the program's attach_btf_id
            long link = Syscall(BpfNumber, RawTracepointOpen, a, 16);
            int errno = Marshal.GetLastPInvokeError();
            if (link < 0)
            {
                return $"BPF_RAW_TRACEPOINT_OPEN: {Errno(errno)}";
            }
            Close((int)link);
            return null;
        }
        finally
        {
            Close(fd);
        }
    }

    private static int Load(uint type, uint expectedAttach, uint attachBtfId, out string? error)
    {
        ulong* insns = stackalloc ulong[2];
        insns[0] = 0xb7; // mov r0, 0 (BPF_ALU64 | BPF_MOV | BPF_K)
        insns[1] = 0x95; // exit
        byte* license = stackalloc byte[4] { (byte)'G', (byte)'P', (byte)'L', 0 };
        const int LogSize = 16384;
        byte[] log = new byte[LogSize];
        byte* a = stackalloc byte[144];
        var attr = new Span<byte>(a, 144);
        fixed (byte* logBuffer = log)
        {
            for (int withLog = 0; withLog < 2; withLog++)
            {
                attr.Clear();
                BinaryPrimitives.WriteUInt32LittleEndian(attr[0..], type);                 // prog_type
                BinaryPrimitives.WriteUInt32LittleEndian(attr[4..], 2);                    // insn_cnt
                BinaryPrimitives.WriteUInt64LittleEndian(attr[8..], (ulong)insns);         // insns
                BinaryPrimitives.WriteUInt64LittleEndian(attr[16..], (ulong)license);      // license
                if (withLog == 1)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(attr[24..], 1);               // log_level
                    BinaryPrimitives.WriteUInt32LittleEndian(attr[28..], LogSize);         // log_size
                    BinaryPrimitives.WriteUInt64LittleEndian(attr[32..], (ulong)logBuffer); // log_buf
                }
                "kscope_tprobe"u8.CopyTo(attr[48..]);                                      // prog_name[16]
                BinaryPrimitives.WriteUInt32LittleEndian(attr[68..], expectedAttach);      // expected_attach_type
                BinaryPrimitives.WriteUInt32LittleEndian(attr[108..], attachBtfId);        // attach_btf_id
                long fd = Syscall(BpfNumber, ProgLoad, a, 144);
                int errno = Marshal.GetLastPInvokeError();
                if (fd >= 0)
                {
                    error = null;
                    return (int)fd;
                }
                if (withLog == 1 || errno is 1 or 13)
                {
                    int end = Array.IndexOf(log, (byte)0);
                    string text = System.Text.Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end).Trim();
                    string last = text.Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
                    error = $"BPF_PROG_LOAD: {Errno(errno)}{(last.Length > 0 ? $" (verifier: {last})" : "")}";
                    return -errno;
                }
            }
        }
        error = "unreachable";
        return -1;
    }

    /// <summary>True when the failure is a permission refusal (EPERM/EACCES).</summary>
    public static bool IsPermission(string? error) => error is not null && (error.Contains("EPERM", StringComparison.Ordinal) || error.Contains("EACCES", StringComparison.Ordinal));

    private static string Errno(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        7 => "E2BIG",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        22 => "EINVAL",
        38 => "ENOSYS",
        95 => "EOPNOTSUPP",
        524 => "ENOTSUPP",
        _ => $"errno {errno}",
    };
}
