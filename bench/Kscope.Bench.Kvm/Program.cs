using System.Diagnostics;
using Kscope.Kernel.Kvm;
using Kscope.Native.Kvm;

// Same guest and measurements as bench/kvm/loop.c: e6 80 (out %al,$0x80), eb fc (jmp back).
long exits = args.Length > 0 ? long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20000;
byte[] code = [0xe6, 0x80, 0xeb, 0xfc];
using KvmSystem kvm = KvmSystem.Open();
bool warm = args.Length > 1 && args[1] == "--warm";
if (warm)
{
    // Warm-up guest: JIT the create/run path first, so the numbers below are steady-state (C has no JIT).
    using FlatGuest w = FlatGuest.Create(kvm, code, GuestMode.Real);
    for (int i = 0; i < 2000; i++)
    {
        w.Vcpu.Run();
    }
}
long t0 = Stopwatch.GetTimestamp();
using FlatGuest guest = FlatGuest.Create(kvm, code, GuestMode.Real);
VcpuExit first = guest.Vcpu.Run();
double firstUs = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
if (first.Reason != KvmExitReason.Io)
{
    Console.Error.WriteLine($"unexpected exit {first.Reason}");
    return 1;
}
long t1 = Stopwatch.GetTimestamp();
for (long i = 0; i < exits; i++)
{
    VcpuExit e = guest.Vcpu.Run();
    if (e.Reason != KvmExitReason.Io)
    {
        Console.Error.WriteLine($"unexpected exit {e.Reason}");
        return 1;
    }
}
double seconds = Stopwatch.GetElapsedTime(t1).TotalSeconds;
Console.WriteLine($"{(warm ? "csharp-warm" : "csharp")} first_exit_us={firstUs:F1} io_exits_per_s={exits / seconds:F0}");
return 0;
