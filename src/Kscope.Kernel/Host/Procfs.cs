using Kscope.Formats.Procfs;
using Kscope.Native;

namespace Kscope.Kernel.Host;

/// <summary>
/// Reads /proc/PID/* of any process (null pid = this process) and hands the text to the pure parsers in
/// <see cref="Kscope.Formats.Procfs"/>. Errors: <see cref="KernelException"/> (ESRCH when the process is
/// gone, EACCES when another user's process is not readable), <see cref="Kscope.Formats.MalformedDataException"/>.
/// </summary>
public static class Procfs
{
    public static string Dir(int? pid) => pid is int p ? $"/proc/{p}" : "/proc/self";

    public static ProcStatus Status(int? pid = null) => ProcStatus.Parse(ReadText($"{Dir(pid)}/status"), $"{Dir(pid)}/status");

    public static ProcStat Stat(int? pid = null) => ProcStat.Parse(ReadText($"{Dir(pid)}/stat"), $"{Dir(pid)}/stat");

    public static IReadOnlyList<ProcCgroupEntry> Cgroups(int? pid = null) => ProcCgroupEntry.Parse(ReadText($"{Dir(pid)}/cgroup"), $"{Dir(pid)}/cgroup");

    public static IReadOnlyList<MountInfoEntry> MountInfo(int? pid = null) => MountInfoEntry.Parse(ReadText($"{Dir(pid)}/mountinfo"), $"{Dir(pid)}/mountinfo");

    public static IReadOnlyList<ProcMapsEntry> Maps(int? pid = null) => ProcMapsEntry.Parse(ReadText($"{Dir(pid)}/maps"), $"{Dir(pid)}/maps");

    public static IReadOnlyList<ProcLimit> Limits(int? pid = null) => ProcLimit.Parse(ReadText($"{Dir(pid)}/limits"), $"{Dir(pid)}/limits");

    public static IReadOnlyList<string> Cmdline(int? pid = null) => NulSeparated.Split(ReadBytes($"{Dir(pid)}/cmdline"));

    /// <summary>The process's initial environment (needs ptrace read access: root or the same user).</summary>
    public static IReadOnlyDictionary<string, string> Environ(int? pid = null) => NulSeparated.Environment(ReadBytes($"{Dir(pid)}/environ"));

    /// <summary>Namespaces of the process: type -> inode (/proc/PID/ns/* links read "net:[4026531833]").</summary>
    public static IReadOnlyList<NamespaceId> Namespaces(int? pid = null)
    {
        string dir = $"{Dir(pid)}/ns";
        var result = new List<NamespaceId>();
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate(e, $"list {dir}");
        }
        foreach (string path in entries)
        {
            string? target;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // e.g. EACCES on another user's namespace: report what we can see
            }
            if (target is not null && NamespaceId.TryParse(Path.GetFileName(path), target, out NamespaceId id))
            {
                result.Add(id);
            }
        }
        return result;
    }

    /// <summary>Reads a procfs/sysfs/cgroupfs file whole (their stat size is 0, so read to EOF).</summary>
    public static string ReadText(string path) => System.Text.Encoding.UTF8.GetString(ReadBytes(path));

    /// <summary>
    /// Reads to end of file with read(2). (File.ReadAllBytes trusts st_size, which sysfs reports as 4096
    /// and procfs as 0, and fails on the short read.) Errors carry the real errno.
    /// </summary>
    public static byte[] ReadBytes(string path)
    {
        using SafeFd fd = Posix.Open(path, OpenFlags.O_RDONLY);
        byte[] buffer = new byte[4096];
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxFileSize)
                {
                    throw new KernelException($"read {path}", Errno.EFBIG, $"larger than {MaxFileSize} bytes");
                }
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            int n = Posix.Read(fd, buffer.AsSpan(length), $"read {path}");
            if (n == 0)
            {
                return buffer.AsSpan(0, length).ToArray();
            }
            length += n;
        }
    }

    /// <summary>Bigger than any procfs/cgroupfs text kscope reads (mountinfo of a busy host is ~1 MB).</summary>
    private const int MaxFileSize = 64 << 20;

    /// <summary>Reads a file, or null when it does not exist (an optional kernel feature, a vanished process's file).</summary>
    public static string? TryReadText(string path)
    {
        try
        {
            return ReadText(path);
        }
        catch (KernelException e) when (e.Errno is Errno.ENOENT or Errno.ENODEV or Errno.ENOTDIR or Errno.ESRCH) // ESRCH: the process exited between open and read
        {
            return null;
        }
    }

    /// <summary>.NET IO exceptions -> the errno they came from, so callers see ENOENT/EACCES/ESRCH by name.</summary>
    internal static KernelException Translate(Exception e, string operation)
    {
        Errno errno = e switch
        {
            FileNotFoundException or DirectoryNotFoundException => Errno.ENOENT,
            UnauthorizedAccessException => Errno.EACCES,
            _ => Errno.EIO,
        };
        return KernelException.FromErrno(operation, errno);
    }
}
