using Kscope.Kernel.Kvm;

namespace Kscope.Kernel.Tests.Kvm;

/// <summary>A vCPU disposed by another thread while it runs, and one nobody disposed at all.</summary>
[Trait("Category", "Kernel")]
public class VcpuLifetimeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public void Dispose_WhileAnotherThreadRunsAGuestForever_WaitsForTheRunThenRunThrows()
    {
        using KvmSystem kvm = KvmFixture.Open();
        var random = new Random(14);
        for (int round = 0; round < 200; round++)
        {
            using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.Forever, GuestMode.Real, memorySize: 0x10000);
            Vcpu vcpu = guest.Vcpu;
            Exception? end = null;
            int runs = 0;
            using var started = new ManualResetEventSlim();
            var runner = new Thread(() =>
            {
                started.Set();
                try
                {
                    while (true)
                    {
                        vcpu.Run(); // jmp $: only a kick (EINTR) ends KVM_RUN
                        runs++;
                    }
                }
                catch (Exception e)
                {
                    end = e;
                }
            });
            runner.Start();
            started.Wait();
            Thread.SpinWait(random.Next(0, 50_000));
            vcpu.Dispose(); // kicks the run in progress, waits for it, then unmaps kvm_run and closes the fd
            Assert.True(runner.Join(Deadline), $"round {round}: the run thread is still inside KVM_RUN after Dispose");
            Assert.IsType<ObjectDisposedException>(end);
            vcpu.Kick(); // after Dispose: a no-op, not a write to unmapped kvm_run
        }
    }
}
