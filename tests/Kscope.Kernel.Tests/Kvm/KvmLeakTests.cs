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
}
