using Kscope.Kernel.Perf;
using Kscope.Native;
using Xunit.Sdk;

namespace Kscope.Kernel.Tests.Harness;

using Kscope.Native.Bpf;

/// <summary>
/// The leak check can fail: a missing Dispose of each kind it counts is caught before any collection, named by
/// kind, and reported again as released only by a finalizer; a disposed one passes; outside the leak
/// collection it refuses to count.
/// </summary>
[Collection(LeakCollection.Name)]
[Trait("Category", "Kernel")]
public class FdCounterTests
{
    private static readonly List<object> s_keep = [];

    [Fact]
    public void AssertNoGrowth_FileStreamNotDisposed_FailsNamingFileAndFinalizer()
    {
        var e = Assert.ThrowsAny<XunitException>(() => FdCounter.AssertNoGrowth(5, () => File.OpenRead("/proc/self/status")));
        Assert.Contains("file ", e.Message, StringComparison.Ordinal);
        Assert.Contains("/proc/", e.Message, StringComparison.Ordinal);
        Assert.Contains("released only by a garbage collection", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AssertNoGrowth_BpfMapFdNotDisposed_FailsNamingBpfMapAndBpftool()
    {
        Requires.Root();
        Kscope.Kernel.Bpf.Memlock.RaiseOnce();
        var e = Assert.ThrowsAny<XunitException>(() => FdCounter.AssertNoGrowth(3, () =>
        {
            var create = new MapCreateAttr { MapType = 1 /* HASH */, KeySize = 4, ValueSize = 4, MaxEntries = 8 };
            SafeFd map = Bpf.MapCreate(ref create);
            lock (s_keep)
            {
                s_keep.Add(map); // held: no finalizer may hide it, bpftool sees the maps
            }
        }));
        var grew = System.Text.RegularExpressions.Regex.Match(e.Message, @"bpf-map (\d+) -> (\d+)");
        Assert.True(grew.Success, e.Message);
        Assert.Equal(3, int.Parse(grew.Groups[2].Value) - int.Parse(grew.Groups[1].Value));
        Assert.Contains("map_id=", e.Message, StringComparison.Ordinal);
        if (Tools.Which("bpftool") is not null)
        {
            Assert.Contains("bpftool shows programs [] and maps [", e.Message, StringComparison.Ordinal);
        }
        lock (s_keep)
        {
            foreach (IDisposable d in s_keep.OfType<IDisposable>())
            {
                d.Dispose();
            }
            s_keep.Clear();
        }
    }

    [Fact]
    public void AssertNoGrowth_PerfRingNotDisposed_FailsNamingPerfEventAndItsMapping()
    {
        Requires.Root();
        var e = Assert.ThrowsAny<XunitException>(() => FdCounter.AssertNoGrowth(2, () =>
        {
            PerfEvent perf = PerfEvent.OpenCpuClock(99, cpu: 0);
            perf.MapRing(2);
        }));
        Assert.Contains("perf_event ", e.Message, StringComparison.Ordinal);
        Assert.Contains("mmap perf_event ", e.Message, StringComparison.Ordinal);
        Assert.Contains("released only by a garbage collection", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AssertNoGrowth_Disposed_Passes()
    {
        FdCounter.AssertNoGrowth(20, () =>
        {
            using FileStream f = File.OpenRead("/proc/self/status");
            f.ReadByte();
        });
    }

    [Fact]
    public void Kind_LinkTargets_NamedByKind()
    {
        Assert.Equal("bpf-prog", FdSnapshot.Kind("anon_inode:bpf-prog"));
        Assert.Equal("bpf-map", FdSnapshot.Kind("anon_inode:bpf-map"));
        Assert.Equal("bpf-link", FdSnapshot.Kind("anon_inode:bpf_link"));
        Assert.Equal("perf_event", FdSnapshot.Kind("anon_inode:[perf_event]"));
        Assert.Equal("eventfd", FdSnapshot.Kind("anon_inode:[eventfd]"));
        Assert.Equal("epoll", FdSnapshot.Kind("anon_inode:[eventpoll]"));
        Assert.Equal("kvm-vcpu", FdSnapshot.Kind("anon_inode:kvm-vcpu:0"));
        Assert.Equal("socket", FdSnapshot.Kind("socket:[12345]"));
        Assert.Equal("file", FdSnapshot.Kind("/proc/1/stat"));
        Assert.Equal("/dev/kvm", FdSnapshot.Kind("/dev/kvm"));
    }
}

/// <summary>Outside <see cref="LeakCollection"/>, where other tests run in parallel, counting is refused.</summary>
public class FdCounterOutsideLeakCollectionTests
{
    [Fact]
    public void AssertNoGrowth_OutsideLeakCollection_Refuses()
    {
        var e = Assert.ThrowsAny<XunitException>(() => FdCounter.AssertNoGrowth(1, () => { }));
        Assert.Contains("must be in [Collection(LeakCollection.Name)]", e.Message, StringComparison.Ordinal);
    }
}
