using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>errno -> name and libc's description.</summary>
public static class ErrnoText
{
    public static string Name(Errno errno) =>
        Enum.IsDefined(errno) ? errno.ToString() : $"errno {(int)errno}";

    /// <summary>libc's strerror text ("Operation not permitted").</summary>
    public static unsafe string Describe(Errno errno)
    {
        if (errno == Errno.ENOTSUPP)
        {
            return "Operation not supported";
        }
        byte* buffer = stackalloc byte[256];
        // GNU strerror_r returns a pointer that may or may not be the buffer.
        byte* text = Interop.Libc.StrError((int)errno, buffer, 256);
        return text == null ? $"errno {(int)errno}" : Marshal.PtrToStringUTF8((nint)text) ?? $"errno {(int)errno}";
    }
}
