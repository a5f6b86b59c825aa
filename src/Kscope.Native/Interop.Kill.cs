using System.Runtime.InteropServices;

namespace Kscope.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // int kill(pid_t pid, int sig)
        [LibraryImport(LibC, EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);
    }
}
