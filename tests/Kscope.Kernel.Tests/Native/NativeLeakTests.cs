using Kscope.Kernel.Perf;

namespace Kscope.Kernel.Tests.Native;

// Inside the namespace so that 'Bpf' binds to the gateway class Kscope.Native.Bpf.Bpf, not the Kscope.Kernel.Tests.Bpf namespace.
using Kscope.Native;
using Kscope.Native.Bpf;

[Collection(LeakCollection.Name)]
[Trait("Category", "Kernel")]
public class NativeLeakTests
{
    [Fact]
    public void OpenClose_Repeated_DoesNotLeakFds()
    {
        FdCounter.AssertNoGrowth(200, () =>
        {
            using SafeFd fd = Posix.Open("/proc/self/status", OpenFlags.O_RDONLY);
            Span<byte> buffer = stackalloc byte[64];
            Assert.True(Posix.Read(fd, buffer) > 0);
        });
    }

    [Fact]
    public void MapCreate_Repeated_DoesNotLeakFds()
    {
        Requires.Root();
        // Raw bpf(BPF_MAP_CREATE), as kscope's Map.Create does it: kernels before 5.11 charge maps to
        // RLIMIT_MEMLOCK (64 KiB by default on 5.10) and uncharge them only after an RCU grace period,
        // so 200 quick creations fail with EPERM unless the limit is raised first.
        Kscope.Kernel.Bpf.Memlock.RaiseOnce();
        FdCounter.AssertNoGrowth(200, () =>
        {
            var create = new MapCreateAttr { MapType = 1 /* HASH */, KeySize = 4, ValueSize = 4, MaxEntries = 8 };
            using SafeFd map = Bpf.MapCreate(ref create);
        });
    }

    [Fact]
    public void OpenMapDispose_Repeated_DoesNotLeakFdsOrMappings()
    {
        Requires.Root();
        FdCounter.AssertNoGrowth(100, () =>
        {
            using PerfEvent perf = PerfEvent.OpenCpuClock(99, cpu: 0);
            perf.MapRing(2);
        });
    }
}
