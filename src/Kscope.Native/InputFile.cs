using System.Buffers.Binary;

namespace Kscope.Native;

/// <summary>
/// The one reader of files a user names (objects, binaries, profiles, BTF, dumps, configs, guest images): it
/// opens without blocking (O_NONBLOCK, so a FIFO cannot hang the open), checks on the open descriptor (fstat
/// through statx, no race with the path) that it is a regular file, refuses more than the caller's limit
/// before reading, and reads with read(2) to the end. procfs and sysfs report size 0 for their regular files:
/// those are read to end of file, still no further than the limit. /dev/zero, /dev/urandom, a FIFO, a socket
/// or a directory is an <see cref="InputFileException"/> that says what it is.
/// </summary>
public static unsafe class InputFile
{
    /// <summary>The default limit: 1 GiB (a .NET array and every parser's offsets are int-sized).</summary>
    public const long DefaultMaxBytes = 1L << 30;

    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1, StatxSize = 0x200;
    // struct statx, include/uapi/linux/stat.h: stx_mode u16 at 28, stx_size u64 at 40 (256 bytes in all).
    private const int StatxBufferSize = 256, StxModeOffset = 28, StxSizeOffset = 40;

    /// <summary>The whole file, at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes = DefaultMaxBytes)
    {
        (SafeFd fd, ulong size) = OpenRegular(path, maxBytes);
        using (fd)
        {
            return size > 0 ? ReadSized(fd, path, (int)size, maxBytes) : ReadToEnd(fd, path, maxBytes);
        }
    }

    /// <summary>
    /// Checks, without reading, that <paramref name="path"/> opens as a regular file of at most
    /// <paramref name="maxBytes"/> bytes (the checks <see cref="ReadAllBytes"/> makes first): for commands that
    /// check their inputs before the work.
    /// </summary>
    public static void Check(string path, long maxBytes = DefaultMaxBytes) => OpenRegular(path, maxBytes).Fd.Dispose();

    private static (SafeFd Fd, ulong Size) OpenRegular(string path, long maxBytes)
    {
        SafeFd fd;
        try
        {
            fd = Posix.Open(path, OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_NOCTTY);
        }
        catch (KernelException e) when (e.Errno == Errno.ENOENT)
        {
            throw new FileNotFoundException($"{path}: no such file", path);
        }
        catch (KernelException e) when (e.Errno is Errno.EACCES or Errno.EPERM)
        {
            throw new UnauthorizedAccessException($"{path}: permission denied (EACCES): run as root or make it readable");
        }
        try
        {
            (uint mode, ulong size) = Stat(fd, path);
            if ((mode & 0xf000) != 0x8000)
            {
                throw new InputFileException(path, $"is {Describe(mode)}, not a regular file: kscope reads inputs only from regular files (copy the data to a file first)");
            }
            if (size > (ulong)maxBytes)
            {
                throw new InputFileException(path, $"is {size} bytes, more than the {maxBytes} bytes kscope reads from it");
            }
            return (fd, size);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>The file as UTF-8 text (invalid sequences become U+FFFD), at most <paramref name="maxBytes"/> bytes.</summary>
    public static string ReadAllText(string path, long maxBytes = DefaultMaxBytes) =>
        System.Text.Encoding.UTF8.GetString(ReadAllBytes(path, maxBytes));

    private static (uint Mode, ulong Size) Stat(SafeFd fd, string path)
    {
        byte* buffer = stackalloc byte[StatxBufferSize];
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            if (Interop.Libc.Statx(fd.Value, "", AtEmptyPath, StatxType | StatxSize, buffer) != 0)
            {
                Errno errno = KernelException.LastErrno();
                throw KernelException.FromErrno($"fstat {path}", errno);
            }
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
        var span = new ReadOnlySpan<byte>(buffer, StatxBufferSize);
        return (BinaryPrimitives.ReadUInt16LittleEndian(span[StxModeOffset..]), BinaryPrimitives.ReadUInt64LittleEndian(span[StxSizeOffset..]));
    }

    private static byte[] ReadSized(SafeFd fd, string path, int size, long maxBytes)
    {
        byte[] buffer = new byte[size];
        int length = 0;
        while (length < size)
        {
            int n = Posix.Read(fd, buffer.AsSpan(length), $"read {path}");
            if (n == 0)
            {
                return buffer.AsSpan(0, length).ToArray(); // shrank while being read
            }
            length += n;
        }
        Span<byte> probe = stackalloc byte[1];
        if (Posix.Read(fd, probe, $"read {path}") != 0)
        {
            throw new InputFileException(path, $"grew past its {size} bytes while being read (a file being written?)");
        }
        return buffer;
    }

    private static byte[] ReadToEnd(SafeFd fd, string path, long maxBytes)
    {
        byte[] buffer = new byte[16 << 10];
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= maxBytes)
                {
                    throw new InputFileException(path, $"is more than the {maxBytes} bytes kscope reads from it");
                }
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, Math.Min(maxBytes, Array.MaxLength)));
            }
            int n = Posix.Read(fd, buffer.AsSpan(length), $"read {path}");
            if (n == 0)
            {
                return buffer.AsSpan(0, length).ToArray();
            }
            length += n;
        }
    }

    private static string Describe(uint mode) => (mode & 0xf000) switch
    {
        0x1000 => "a FIFO (named pipe)",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xc000 => "a socket",
        _ => $"a special file (mode 0{Convert.ToString(mode, 8)})",
    };
}

/// <summary>A file a user named cannot be an input: not a regular file, too large, or changing while read.</summary>
public sealed class InputFileException(string path, string problem) : IOException($"{path}: {problem}")
{
    public string Path { get; } = path;
}
