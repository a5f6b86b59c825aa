namespace Kscope.Cli.Infrastructure;

/// <summary>
/// Inputs and outputs checked before the work, with kscope's own messages (the runtime's are resource keys in the
/// shipped build: <c>IO_FileNotFound_FileName</c>): <c>open /x: no such file (ENOENT)</c>, <c>is a directory (EISDIR)</c>,
/// <c>permission denied (EACCES)</c>. An output is checked before a profile samples for 30 s, not after.
/// </summary>
public static class FileChecks
{
    /// <summary>A file kscope will read: exists, is not a directory, can be opened for reading.</summary>
    /// <param name="context">what reads it ("symbolize", "pprof top"), the first word of the message.</param>
    public static void Input(string context, string path)
    {
        if (Directory.Exists(path))
        {
            throw new CommandException($"{context}: open {path}: is a directory (EISDIR); give a file");
        }
        if (!File.Exists(path))
        {
            string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
            throw new CommandException(parent is not null && File.Exists(parent)
                ? $"{context}: open {path}: not a directory (ENOTDIR): {parent} is a file"
                : $"{context}: open {path}: no such file (ENOENT)");
        }
        try
        {
            Kscope.Native.InputFile.Check(path); // a regular file: not /dev/zero, a FIFO (the open does not block) or a socket
        }
        catch (Kscope.Native.InputFileException e)
        {
            throw new CommandException($"{context}: {e.Message}");
        }
        catch (UnauthorizedAccessException)
        {
            throw new CommandException($"{context}: open {path}: permission denied (EACCES); run as root or make it readable", ExitCodes.PermissionDenied);
        }
        catch (IOException e)
        {
            throw new CommandException($"{context}: open {path}: {ErrorText.Io(e)}");
        }
    }

    /// <summary>A file that must be an ELF object (after <see cref="Input"/>): "not an ELF file" rather than a parser's offset.</summary>
    public static void Elf(string context, string path)
    {
        Span<byte> head = stackalloc byte[4];
        int n;
        using (var stream = File.OpenRead(path))
        {
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        if (!Kscope.Formats.Elf.ElfFile.IsElf(head[..n]))
        {
            throw new CommandException($"{context}: {path}: not an ELF file ({(n == 0 ? "it is empty" : "no \\x7fELF magic")}); give an executable, shared library or object file");
        }
    }

    /// <summary>
    /// A file kscope will write when the work is done: its directory exists and takes a new file, and the path is not
    /// a directory. A file that did not exist is created to prove it and removed again; an existing one is left as it is.
    /// </summary>
    /// <param name="option">the option that named it ("-o"), for the message.</param>
    public static void Output(string context, string option, string path)
    {
        if (Directory.Exists(path))
        {
            throw new UsageException($"{context}: {option} {path}: is a directory (EISDIR); give a file name");
        }
        string full = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(full);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new CommandException(File.Exists(directory)
                ? $"{context}: {option} {path}: {directory} is a file, not a directory (ENOTDIR)"
                : $"{context}: {option} {path}: no such directory {directory} (ENOENT); create it first");
        }
        bool existed = File.Exists(full);
        try
        {
            using (File.OpenHandle(full, FileMode.OpenOrCreate, FileAccess.Write))
            {
            }
        }
        catch (UnauthorizedAccessException)
        {
            throw new CommandException($"{context}: {option} {path}: permission denied (EACCES): cannot write {(existed ? "the file" : "in " + directory)}", ExitCodes.PermissionDenied);
        }
        catch (IOException e)
        {
            throw new CommandException($"{context}: {option} {path}: {ErrorText.Io(e)}");
        }
        if (!existed)
        {
            File.Delete(full);
        }
    }
}

/// <summary>An anticipated failure with kscope's own one-line message and its exit code (3 unless said).</summary>
public sealed class CommandException(string message, int exitCode = ExitCodes.Error) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
