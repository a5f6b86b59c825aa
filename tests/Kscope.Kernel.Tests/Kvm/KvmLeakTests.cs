using System.Runtime.CompilerServices;
using Kscope.Kernel.Kvm;

namespace Kscope.Kernel.Tests.Kvm;

[Collection(LeakCollection.Name)]
public class KvmLeakTests
{
    [Fact]
    public void CreateRunDestroy_200Cycles_DoesNotLeakFds()
    {
        using KvmSystem kvm = KvmFixture.Open();
        FdCounter.AssertNoGrowth(200, () =>
        {
            using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.RealModeOutHlt, GuestMode.Real, memorySize: 0x10000);
            Assert.Equal(GuestStop.Halted, guest.CreateRunner().Run().Stop);
        });
    }

    [Fact]
    public void Vcpu_NeverDisposed_ItsFinalizerLetsTheFdClose()
    {
        using KvmSystem kvm = KvmFixture.Open();
        KernelObjects before = KernelObjects.Take();
        CreateAndDrop(kvm);
        Assert.NotEqual("", before.Difference(KernelObjects.Take())); // the vCPU and VM fds are open now
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        // Before the finalizer existed, the vCPU's lifetime reference kept its fd open forever.
        Assert.Equal("", before.Difference(KernelObjects.Take()));

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void CreateAndDrop(KvmSystem kvm)
        {
            VirtualMachine vm = kvm.CreateVm();
            vm.CreateVcpu();
        }
    }
}
