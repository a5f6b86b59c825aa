using System.Runtime.InteropServices;

namespace Kscope.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        // glibc's sigaction(): fills sa_restorer itself, so kscope's struct leaves it zero.
        [LibraryImport(LibC, EntryPoint = "sigaction", SetLastError = true)]
        internal static partial int SigAction(int signal, SigAction* action, SigAction* oldAction);

        [LibraryImport(LibC, EntryPoint = "__libc_current_sigrtmax")]
        internal static partial int CurrentSigRtMax();

        [LibraryImport(LibC, EntryPoint = "mprotect", SetLastError = true)]
        internal static partial int Mprotect(nint address, nuint length, int protection);
    }
}

// struct sigaction as glibc declares it for userspace (bits/sigaction.h), NOT the kernel's (which has no
// BTF-visible userspace twin): handler, 1024-bit sa_mask, int sa_flags, sa_restorer. 152 bytes on x86_64 and
// arm64; the size and offsets are checked against gcc's in the tests.
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SigAction
{
    public nint Handler;
    public fixed ulong Mask[16];
    public int Flags;
    public nint Restorer;
}
