using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Kscope.Kernel.Kvm;
using Kscope.Native.Kvm;

namespace Kscope.Bench.Kvm;

/// <summary>
/// One IO exit per operation (the guest is an OUT/JMP loop): kscope's <see cref="Vcpu.Run"/> (decode included)
/// against a bare KVM_RUN ioctl on the same vCPU fd, the floor any binding can reach. MemoryDiagnoser shows the
/// bytes allocated per exit.
/// </summary>
[MemoryDiagnoser]
public unsafe partial class VcpuRunBenchmarks
{
    /// <summary>e6 80 = out %al,$0x80; eb fc = jmp back to the out.</summary>
    public static readonly byte[] Code = [0xe6, 0x80, 0xeb, 0xfc];

    private KvmSystem _kvm = null!;
    private FlatGuest _guest = null!;
    private int _fd;
    private KvmRun* _run;

    [GlobalSetup]
    public void Setup()
    {
        _kvm = KvmSystem.Open();
        _guest = FlatGuest.Create(_kvm, Code, GuestMode.Real);
        _fd = _guest.Vcpu.Fd.Value;
        _run = (KvmRun*)Unsafe.AsPointer(ref _guest.Vcpu.RunState);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _guest.Dispose();
        _kvm.Dispose();
    }

    [Benchmark(Baseline = true)]
    public uint BareIoctl()
    {
        if (Ioctl(_fd, KvmIoctl.Run, 0) != 0)
        {
            throw new InvalidOperationException("KVM_RUN failed");
        }
        return _run->ExitReason;
    }

    [Benchmark]
    public uint IoctlSetLastError()
    {
        if (IoctlErrno(_fd, KvmIoctl.Run, 0) != 0)
        {
            throw new InvalidOperationException("KVM_RUN failed: " + Marshal.GetLastPInvokeError());
        }
        return _run->ExitReason;
    }

    [Benchmark]
    public uint FencedIoctl()
    {
        Interlocked.Exchange(ref _tid, 1);
        if (Ioctl(_fd, KvmIoctl.Run, 0) != 0)
        {
            throw new InvalidOperationException("KVM_RUN failed");
        }
        Volatile.Write(ref _tid, 0);
        return _run->ExitReason;
    }

    private int _tid;

    [Benchmark]
    public KvmExitReason VcpuRun() => _guest.Vcpu.Run().Reason;

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlErrno(int fd, nuint request, nint argument);

    // No SetLastError, no SafeHandle: the cheapest possible call.
    [LibraryImport("libc", EntryPoint = "ioctl")]
    private static partial int Ioctl(int fd, nuint request, nint argument);
}
