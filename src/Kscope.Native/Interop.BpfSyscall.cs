using System.Runtime.InteropServices;

namespace Kscope.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // syscall(__NR_bpf, cmd, attr, size) for the bpf(2) gateway, whose element commands (map lookup/update/
        // delete/next key) run in hot loops. Imported WITHOUT SetLastError, for the reason Interop.KvmRun.cs gives:
        // that option costs two extra calls per syscall (errno = 0 before, a copy into the runtime's last-error slot
        // after). syscall() returns -1 on failure, so Bpf.Invoke reads errno (Marshal.GetLastSystemError) on the very
        // next line when, and only when, it got -1.
        [LibraryImport(LibC, EntryPoint = "syscall")]
        internal static partial nint SyscallBpf(nint number, nint command, nint attr, nint size);
    }
}
