using System.Diagnostics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Running;
using Kscope.Bench.Kvm;
using Kscope.Kernel.Kvm;
using Kscope.Native.Kvm;

// Same guest and measurements as bench/kvm/loop.c: e6 80 (out %al,$0x80), eb fc (jmp back).
//   Kscope.Bench.Kvm [EXITS] [--warm]   one line: first_exit_us, io_exits_per_s (wall), io_exits_per_cpu_s (thread CPU)
//   Kscope.Bench.Kvm --overhead [EXITS]  in one warm process, alternating blocks of Vcpu.Run and a bare KVM_RUN
//                                         P/Invoke on the same vCPU: the binding's own cost, apart from process effects
//   Kscope.Bench.Kvm --bdn [BDN args]    BenchmarkDotNet: per-exit time and allocations of Vcpu.Run vs a bare ioctl
if (args.Length > 0 && args[0] == "--bdn")
{
    BenchmarkSwitcher.FromAssembly(typeof(VcpuRunBenchmarks).Assembly).Run(args[1..]);
    return 0;
}
if (args.Length > 0 && args[0] == "--overhead")
{
    return Overhead.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20000);
}
long exits = args.Length > 0 ? long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20000;
using KvmSystem kvm = KvmSystem.Open();
bool warm = args.Length > 1 && args[1] == "--warm";
if (warm)
{
    // Warm-up guest: JIT the create/run path first, so the numbers below are steady-state (C has no JIT).
    using FlatGuest w = FlatGuest.Create(kvm, VcpuRunBenchmarks.Code, GuestMode.Real);
    for (int i = 0; i < 2000; i++)
    {
        w.Vcpu.Run();
    }
}
long t0 = Stopwatch.GetTimestamp();
using FlatGuest guest = FlatGuest.Create(kvm, VcpuRunBenchmarks.Code, GuestMode.Real);
VcpuExit first = guest.Vcpu.Run();
double firstUs = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
if (first.Reason != KvmExitReason.Io)
{
    Console.Error.WriteLine($"unexpected exit {first.Reason}");
    return 1;
}
Vcpu vcpu = guest.Vcpu;
double c1 = ThreadCpu.Seconds();
long t1 = Stopwatch.GetTimestamp();
for (long i = 0; i < exits; i++)
{
    VcpuExit e = vcpu.Run();
    if (e.Reason != KvmExitReason.Io)
    {
        Console.Error.WriteLine($"unexpected exit {e.Reason}");
        return 1;
    }
}
double seconds = Stopwatch.GetElapsedTime(t1).TotalSeconds;
double cpuSeconds = ThreadCpu.Seconds() - c1;
Console.WriteLine($"{(warm ? "csharp-warm" : "csharp")} first_exit_us={firstUs:F1} io_exits_per_s={exits / seconds:F0} io_exits_per_cpu_s={exits / cpuSeconds:F0}");
return 0;

/// <summary>clock_gettime(CLOCK_THREAD_CPUTIME_ID): this thread's CPU time, as loop.c measures it.</summary>
internal static unsafe partial class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    public static double Seconds()
    {
        long* ts = stackalloc long[2];
        return ClockGetTime(ClockThreadCpuTimeId, ts) == 0 ? ts[0] + ts[1] / 1e9 : double.NaN;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, long* timespec);
}
