using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kscope.Native;
using Kscope.Native.Kvm;

namespace Kscope.Kernel.Kvm;

/// <summary>
/// A vCPU fd and its kvm_run mapping. <see cref="Run"/> enters the guest once and decodes the exit;
/// <see cref="Kick"/> (from any thread) makes a running or about-to-run <see cref="Run"/> return
/// <see cref="VcpuExit.Interrupted"/> promptly: it sets kvm_run.immediate_exit, then sends
/// <see cref="KickSignal"/> to the thread inside KVM_RUN so the ioctl returns EINTR.
/// </summary>
/// <remarks>
/// Lifetime: the vCPU holds one reference on its fd for as long as it lives (the run loop passes the raw number
/// to KVM_RUN without per-call reference counting), released by <see cref="Dispose"/> or, for a vCPU nobody
/// disposed, by its finalizer, so the fd is never left open for the life of the process. <see cref="Dispose"/>
/// from another thread while <see cref="Run"/> is in progress kicks the run and waits until it has returned
/// before it unmaps kvm_run and closes the fd; <see cref="Kick"/> racing Dispose is a no-op once disposed.
/// Spans from <see cref="RunState"/>, <see cref="IoData"/> and <see cref="MmioData"/> are valid on the run
/// thread until Dispose: stop the loop (Kick) before disposing from elsewhere.
/// </remarks>
public sealed unsafe class Vcpu : IDisposable
{
    private readonly MemoryMapping _runMapping;
    private readonly KvmRun* _run;
    private readonly int _fd;
    private readonly bool _fdReferenced;
    private int _runningThreadId;
    private int _disposed;

    private Vcpu(VirtualMachine vm, int id, SafeFd fd, MemoryMapping runMapping)
    {
        Vm = vm;
        Id = id;
        Fd = fd;
        _runMapping = runMapping;
        _run = (KvmRun*)runMapping.Pointer;
        // One reference held for the vCPU's lifetime instead of one per KVM_RUN: the descriptor number the run
        // loop passes to ioctl cannot be closed (and reused) before Dispose, even if someone disposes Fd.
        fd.DangerousAddRef(ref _fdReferenced);
        _fd = fd.Value;
    }

    public VirtualMachine Vm { get; }

    public int Id { get; }

    public SafeFd Fd { get; }

    /// <summary>KVM_RUN calls that returned EAGAIN and were retried.</summary>
    public long EagainRetries { get; private set; }

    /// <summary>The shared kvm_run page (valid until disposal).</summary>
    public ref KvmRun RunState => ref *RunPointer;

    private KvmRun* RunPointer
    {
        get
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                ThrowDisposed();
            }
            return _run;
        }
    }

    internal static Vcpu Create(VirtualMachine vm, int id)
    {
        KickSignal.EnsureInstalled();
        SafeFd fd = KvmApi.CreateVcpu(vm.Fd, id);
        try
        {
            int size = vm.Kvm.VcpuMmapSize;
            if (size < sizeof(KvmRun))
            {
                throw new KernelException($"KVM_GET_VCPU_MMAP_SIZE is {size}, smaller than struct kvm_run ({sizeof(KvmRun)})", Errno.EINVAL);
            }
            MemoryMapping run = MemoryMapping.Map(fd, (nuint)size, MemoryMapping.ProtRead | MemoryMapping.ProtWrite, MemoryMapping.MapShared, 0, $"mmap vcpu {id} kvm_run");
            return new Vcpu(vm, id, fd, run);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// KVM_RUN once: returns the decoded exit. EAGAIN is retried; EINTR (signal or immediate_exit) clears
    /// immediate_exit and returns an exit with <see cref="VcpuExit.Interrupted"/> set; other errors throw.
    /// The hot path of every VMM loop: no allocation, no SafeHandle reference counting (the vCPU holds one
    /// reference for its lifetime), the exit fields read straight from the shared kvm_run page. Do not call
    /// <see cref="Dispose"/> while another thread is inside Run: <see cref="Kick"/> it and let Run return first.
    /// </summary>
    public VcpuExit Run()
    {
        // A full fence (xchg): pairs with Kick's store of immediate_exit then read of this id (Dekker), so either
        // Kick sees this thread and signals it, or the kernel sees immediate_exit when KVM_RUN starts. It pairs the
        // same way with Dispose's store of _disposed then read of this id: either Dispose sees the run and waits for
        // it, or this run sees _disposed here and never touches the fd or the mapping.
        Interlocked.Exchange(ref _runningThreadId, CurrentThreadId);
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                ThrowDisposed();
            }
            Errno errno;
            while ((errno = KvmApi.Run(_fd)) == Errno.EAGAIN)
            {
                EagainRetries++;
            }
            if (errno == 0)
            {
                KvmRun* run = _run;
                // The common exit inline; the rest (and every exit's extra fields) in Decode.
                return run->ExitReason == (uint)KvmExitReason.Io
                    ? new VcpuExit { Reason = KvmExitReason.Io, IoOut = run->IoDirection == 1, IoPort = run->IoPort, IoSize = run->IoSize, IoCount = run->IoCount }
                    : Decode(run);
            }
            if (errno == Errno.EINTR)
            {
                _run->ImmediateExit = 0;
                return new VcpuExit { Reason = KvmExitReason.Intr, Interrupted = true };
            }
            throw RunFailed(errno);
        }
        finally
        {
            // Only now, after the exit was read from kvm_run: a Dispose waiting for this run may unmap it.
            Volatile.Write(ref _runningThreadId, 0);
        }
    }

    private KernelException RunFailed(Errno errno) => KernelException.FromErrno($"ioctl KVM_RUN (vcpu {Id})", errno);

    /// <summary>
    /// From any thread: make the current or next <see cref="Run"/> return Interrupted. Safe to call when the
    /// vCPU is not running (the next KVM_RUN returns EINTR at once).
    /// </summary>
    public void Kick()
    {
        bool added = false;
        try
        {
            _runMapping.DangerousAddRef(ref added); // kvm_run stays mapped while this writes it, even if Dispose runs meanwhile
        }
        catch (ObjectDisposedException)
        {
            return; // disposed: nothing runs, nothing to kick
        }
        try
        {
            Volatile.Write(ref _run->ImmediateExit, 1);
            Interlocked.MemoryBarrier();
            SignalRunningThread();
        }
        finally
        {
            _runMapping.DangerousRelease();
        }
    }

    /// <summary>Sends only the signal (no immediate_exit): interrupts a KVM_RUN in progress. False when none was.</summary>
    public bool SignalRunningThread()
    {
        int tid = Volatile.Read(ref _runningThreadId);
        return tid != 0 && KickSignal.Send(tid);
    }

    /// <summary>IO exit data: size * count bytes inside the vCPU mapping at io.data_offset (write it for IN).</summary>
    public Span<byte> IoData
    {
        get
        {
            ref KvmRun run = ref RunState;
            ulong length = (ulong)run.IoSize * run.IoCount;
            if (run.IoDataOffset > (ulong)_runMapping.Length || length > (ulong)_runMapping.Length - run.IoDataOffset)
            {
                throw new KernelException($"kvm_run io.data_offset 0x{run.IoDataOffset:x}+{length} is outside the vCPU mapping", Errno.EINVAL);
            }
            return new Span<byte>(_runMapping.Pointer + run.IoDataOffset, (int)length);
        }
    }

    /// <summary>MMIO exit data (mmio.data, len bytes, at most 8): the written value, or where to put the value read.</summary>
    public Span<byte> MmioData
    {
        get
        {
            KvmRun* run = RunPointer;
            return new Span<byte>(run->MmioData, (int)Math.Min(run->MmioLen, 8u));
        }
    }

    public KvmRegs GetRegisters() => KvmApi.GetRegs(Fd);

    public void SetRegisters(in KvmRegs regs) => KvmApi.SetRegs(Fd, regs);

    public KvmSregs GetSpecialRegisters() => KvmApi.GetSregs(Fd);

    public void SetSpecialRegisters(in KvmSregs sregs) => KvmApi.SetSregs(Fd, sregs);

    public KvmFpu GetFpu() => KvmApi.GetFpu(Fd);

    public void SetFpu(in KvmFpu fpu) => KvmApi.SetFpu(Fd, fpu);

    /// <summary>KVM_SET_CPUID2 with these leaves (typically <see cref="KvmSystem.GetSupportedCpuid"/>).</summary>
    public void SetCpuid(ReadOnlySpan<KvmCpuidEntry2> entries)
    {
        int bytes = sizeof(KvmCpuid2) + entries.Length * sizeof(KvmCpuidEntry2);
        byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)bytes);
        try
        {
            ((KvmCpuid2*)buffer)->Nent = (uint)entries.Length;
            entries.CopyTo(new Span<KvmCpuidEntry2>(buffer + sizeof(KvmCpuid2), entries.Length));
            KvmApi.SetCpuid2(Fd, (KvmCpuid2*)buffer);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>KVM_GET_MSRS for one MSR.</summary>
    public ulong GetMsr(uint index)
    {
        MsrBuffer buffer = default;
        buffer.Header.Nmsrs = 1;
        buffer.Entry.Index = index;
        if (KvmApi.GetMsrs(Fd, &buffer.Header) != 1)
        {
            throw new KernelException($"ioctl KVM_GET_MSRS(0x{index:x}): MSR not readable", Errno.EINVAL);
        }
        return buffer.Entry.Data;
    }

    /// <summary>KVM_SET_MSRS for one MSR.</summary>
    public void SetMsr(uint index, ulong value)
    {
        MsrBuffer buffer = default;
        buffer.Header.Nmsrs = 1;
        buffer.Entry.Index = index;
        buffer.Entry.Data = value;
        if (KvmApi.SetMsrs(Fd, &buffer.Header) != 1)
        {
            throw new KernelException($"ioctl KVM_SET_MSRS(0x{index:x}): MSR not writable", Errno.EINVAL);
        }
    }

    /// <summary>
    /// Unmaps kvm_run and closes the fd. A <see cref="Run"/> in progress on another thread is kicked and waited for
    /// first (it reads kvm_run after KVM_RUN returns). Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) // a full fence: see Run
        {
            return;
        }
        if (Volatile.Read(ref _runningThreadId) is int tid && tid != 0 && tid != CurrentThreadId)
        {
            Volatile.Write(ref _run->ImmediateExit, 1);
            Interlocked.MemoryBarrier();
            SignalRunningThread();
            var spin = new SpinWait();
            while (Volatile.Read(ref _runningThreadId) != 0)
            {
                spin.SpinOnce(sleep1Threshold: 20);
            }
        }
        _runMapping.Dispose();
        if (_fdReferenced)
        {
            Fd.DangerousRelease();
        }
        Fd.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// A vCPU nobody disposed: drop the lifetime reference on the fd, so its SafeFd's own finalizer can close it
    /// (otherwise the count never reaches zero and the fd stays open for the life of the process). kvm_run is a
    /// SafeBuffer and unmaps itself. No Run can be in progress: the vCPU is unreachable.
    /// </summary>
    ~Vcpu()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _fdReferenced)
        {
            Fd.DangerousRelease();
        }
    }

    private void ThrowDisposed() => throw new ObjectDisposedException(nameof(Vcpu), $"vcpu {Id} is disposed");

    [ThreadStatic]
    private static int t_threadId;

    private static int CurrentThreadId
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int tid = t_threadId;
            return tid != 0 ? tid : InitThreadId();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int InitThreadId() => t_threadId = Syscall.GetTid();

    private static VcpuExit Decode(KvmRun* p)
    {
        ref KvmRun run = ref *p;
        var reason = (KvmExitReason)run.ExitReason;
        return reason switch
        {
            KvmExitReason.Io => new VcpuExit { Reason = reason, IoOut = run.IoDirection == 1, IoPort = run.IoPort, IoSize = run.IoSize, IoCount = run.IoCount },
            KvmExitReason.Mmio => new VcpuExit { Reason = reason, MmioAddress = run.MmioPhysAddr, MmioLength = run.MmioLen, MmioWrite = run.MmioIsWrite != 0 },
            KvmExitReason.FailEntry => new VcpuExit { Reason = reason, HardwareReason = run.FailEntryHardwareEntryFailureReason },
            KvmExitReason.Unknown => new VcpuExit { Reason = reason, HardwareReason = run.HwHardwareExitReason },
            KvmExitReason.InternalError => new VcpuExit { Reason = reason, Suberror = run.InternalSuberror, Data = Words(p->InternalData, run.InternalNdata) },
            KvmExitReason.SystemEvent => new VcpuExit { Reason = reason, SystemEventType = run.SystemEventType, Data = Words(p->SystemEventData, run.SystemEventNdata) },
            _ => new VcpuExit { Reason = reason },
        };

        static ulong[] Words(ulong* data, uint count) => new ReadOnlySpan<ulong>(data, (int)Math.Min(count, 16u)).ToArray();
    }

    // struct kvm_msrs with one struct kvm_msr_entry after it.
    [StructLayout(LayoutKind.Sequential)]
    private struct MsrBuffer
    {
        public KvmMsrs Header;
        public KvmMsrEntry Entry;
    }
}
