using Kscope.Native;

namespace Kscope.Diagnostics.Trace;

/// <summary>errno numbers as the kernel returns them (negated) to names: 2 -> "ENOENT".</summary>
public static class Errors
{
    public static string Name(long errno) =>
        errno is > 0 and < 4096 && Enum.IsDefined((Errno)(int)errno) ? ErrnoText.Name((Errno)(int)errno) : $"E{errno}";
}
