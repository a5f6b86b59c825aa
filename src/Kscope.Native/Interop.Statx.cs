using System.Runtime.InteropServices;

namespace Kscope.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        // int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) (glibc 2.28+)
        [LibraryImport(LibC, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);
    }
}
