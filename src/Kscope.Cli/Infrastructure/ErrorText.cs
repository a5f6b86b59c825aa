using System.Text;
using System.Text.RegularExpressions;
using Kscope.Native;

namespace Kscope.Cli.Infrastructure;

/// <summary>
/// kscope's own words for the runtime's exceptions. The shipped build has no resource strings
/// (UseSystemResourceKeys), so their messages are keys such as <c>IO_FileNotFound_FileName, /x</c> or
/// <c>UnauthorizedAccess_IODenied_Path, /tmp</c>: every message here is built from the exception's data instead
/// (its type, path, errno, regex error code), the same in every build.
/// </summary>
public static class ErrorText
{
    /// <summary>The text for a runtime exception, or null when its message is kscope's own and fine as it is.</summary>
    public static string? Describe(Exception e)
    {
        switch (e)
        {
            case FileNotFoundException f when f.FileName is not null && !f.Message.StartsWith("open ", StringComparison.Ordinal):
                return $"open {f.FileName}: no such file (ENOENT)";
            case DirectoryNotFoundException:
                return $"open {PathIn(e.Message) ?? "?"}: no such file or directory (ENOENT)";
            case UnauthorizedAccessException:
                string? path = PathIn(e.Message);
                return path is not null && Directory.Exists(path) ? $"open {path}: is a directory (EISDIR); give a file"
                    : $"open {path ?? "?"}: permission denied (EACCES)";
            case PathTooLongException:
                return $"open {PathIn(e.Message) ?? "?"}: file name too long (ENAMETOOLONG)";
            case RegexParseException r:
                return Regex(r);
            case BadImageFormatException:
                return "not a .NET assembly (no PE/CLI header)";
            case IOException io when io.GetType() == typeof(IOException) && io.HResult is > 0 and < 4096:
                return $"{(PathIn(io.Message) is { } p ? p + ": " : "")}{Io(io)}";
            default:
                return null;
        }
    }

    /// <summary>"missing closing parenthesis at offset 3", from the parser's error code.</summary>
    public static string Regex(RegexParseException e) => $"bad regular expression: {Words(e.Error.ToString())} at offset {e.Offset}";

    /// <summary>An I/O error as "no space left on device (ENOSPC)": the runtime puts the errno in HResult for plain IOExceptions.</summary>
    public static string Io(IOException e)
    {
        int errno = e.HResult;
        if (errno is > 0 and < 4096)
        {
            string text = ErrnoText.Describe((Errno)errno);
            return $"{char.ToLowerInvariant(text[0])}{text[1..]} ({ErrnoText.Name((Errno)errno)})";
        }
        return e is FileNotFoundException ? "no such file (ENOENT)" : "input/output error";
    }

    /// <summary>
    /// The path in a runtime I/O message: "Access to the path '/tmp' is denied." (with resources) or
    /// "UnauthorizedAccess_IODenied_Path, /tmp" (without).
    /// </summary>
    internal static string? PathIn(string message)
    {
        int first = message.IndexOf('\''), last = message.LastIndexOf('\'');
        if (first >= 0 && last > first)
        {
            return message[(first + 1)..last];
        }
        if (LooksLikeResourceKey(message))
        {
            int comma = message.IndexOf(", ", StringComparison.Ordinal);
            return comma > 0 ? message[(comma + 2)..] : null;
        }
        return null;
    }

    /// <summary>"IO_FileNotFound_FileName, /x": a key, its arguments after commas.</summary>
    internal static bool LooksLikeResourceKey(string message)
    {
        int end = message.IndexOf(',');
        string key = end < 0 ? message : message[..end];
        return key.Length > 0 && key.Contains('_') && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
    }

    /// <summary>"InsufficientClosingParentheses" -> "insufficient closing parentheses".</summary>
    private static string Words(string pascal)
    {
        var sb = new StringBuilder();
        foreach (char c in pascal)
        {
            if (char.IsUpper(c) && sb.Length > 0)
            {
                sb.Append(' ');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
