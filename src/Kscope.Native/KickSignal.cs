using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>
/// A real-time signal whose only job is to interrupt a blocking syscall (KVM_RUN) in one chosen thread, so
/// that syscall returns EINTR. Installed once per process through glibc's sigaction WITHOUT SA_RESTART and with
/// a handler that does nothing.
/// <para>
/// Why this shape: .NET owns several signals (SIGRTMIN drives its thread-suspension "activation injection";
/// SIGINT/SIGCHLD/SIGCONT/SIGWINCH… go through System.Native), so kscope picks SIGRTMAX-1, which the runtime
/// leaves alone, and refuses to overwrite a handler someone else installed. The handler must be native and
/// async-signal-safe: an [UnmanagedCallersOnly] method would enter the runtime from a signal context (a GC
/// mode switch) at an arbitrary point. So the handler is a one-instruction native stub (<c>ret</c>) in a
/// page kscope maps read+exec once and never unmaps. An ignored signal (SIG_IGN, or a SIG_DFL whose
/// default is to ignore) would not work: the kernel discards it before it can interrupt anything.
/// </para>
/// x86_64 only (the KVM binding is x86_64 too).
/// </summary>
public static unsafe class KickSignal
{
    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int ProtExec = 0x4;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private static readonly Lock s_lock = new();
    private static nint s_handler;

    /// <summary>The signal number used (SIGRTMAX-1, 63 with glibc).</summary>
    public static int Number { get; } = Interop.Libc.CurrentSigRtMax() - 1;

    /// <summary>Installs the no-op handler once (idempotent, thread-safe).</summary>
    public static void EnsureInstalled()
    {
        if (Volatile.Read(ref s_handler) != 0)
        {
            return;
        }
        lock (s_lock)
        {
            if (s_handler != 0)
            {
                return;
            }
            if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            {
                throw new PlatformNotSupportedException("the vCPU kick signal handler stub is x86_64 only");
            }
            nint stub = MakeReturnStub();
            SigAction old;
            if (Interop.Libc.SigAction(Number, null, &old) != 0)
            {
                throw KernelException.FromErrno($"sigaction({Number}) query", KernelException.LastErrno());
            }
            if (old.Handler != 0)
            {
                throw new InvalidOperationException($"signal {Number} already has a handler; kscope needs it to kick vCPU threads");
            }
            SigAction action = default; // empty mask, no SA_RESTART: the interrupted syscall returns EINTR
            action.Handler = stub;
            if (Interop.Libc.SigAction(Number, &action, null) != 0)
            {
                throw KernelException.FromErrno($"sigaction({Number})", KernelException.LastErrno());
            }
            Volatile.Write(ref s_handler, stub);
        }
    }

    /// <summary>tgkill(getpid(), tid, signal): interrupts that thread's current blocking syscall. False when the thread is gone.</summary>
    public static bool Send(int threadId)
    {
        EnsureInstalled();
        return Syscall.Tgkill(Posix.GetPid(), threadId, Number);
    }

    private static nint MakeReturnStub()
    {
        nuint page = (nuint)Environment.SystemPageSize;
        nint p = Interop.Libc.Mmap(0, page, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (p == -1)
        {
            throw KernelException.FromErrno("mmap signal stub", KernelException.LastErrno());
        }
        *(byte*)p = 0xC3; // ret
        if (Interop.Libc.Mprotect(p, page, ProtRead | ProtExec) != 0)
        {
            Errno errno = KernelException.LastErrno();
            Interop.Libc.Munmap(p, page);
            throw KernelException.FromErrno("mprotect signal stub", errno);
        }
        return p;
    }
}
