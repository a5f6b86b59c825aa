using Kscope.Kernel.Perf;
using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Kernel.Tests.Perf;

[Trait("Category", "Kernel")]
public class PerfRingTests
{
    private const ulong SampleTid = 1UL << 1;

    [Fact]
    public void CpuClock_OnSelf_DeliversSamplesThroughRingAndEpoll()
    {
        Requires.Root();
        using PerfEvent perf = PerfEvent.OpenCpuClock(frequencyHz: 999, cpu: -1, pid: 0, sampleType: SampleTid);
        PerfRing ring = perf.MapRing(dataPages: 4);
        using var epoll = new Epoll();
        epoll.Add(perf.Fd, Epoll.In, 7);
        perf.Enable();

        int samples = 0;
        int self = Posix.GetPid();
        void Count(PerfEventHeader header, ReadOnlySpan<byte> body)
        {
            if (header.Type == (uint)PerfRecordType.Sample)
            {
                Assert.Equal(self, BitConverter.ToInt32(body)); // PERF_SAMPLE_TID: u32 pid, u32 tid
                samples++;
            }
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool woken = false;
        Span<EpollEvent> ready = stackalloc EpollEvent[4];
        while (samples < 20)
        {
            Assert.True(clock.Elapsed < Poll.Generous, $"only {samples} samples after {Poll.Generous.TotalSeconds:0} s of spinning");
            Spin(TimeSpan.FromMilliseconds(20));
            if (epoll.Wait(ready, 100) > 0)
            {
                Assert.Equal(7UL, ready[0].Data);
                woken = true;
            }
            ring.Read(Count);
        }
        perf.Disable();
        Assert.True(woken, "epoll never reported the ring readable");
        // Drained after Disable: reading publishes the tail, so nothing is left (a reader that never advanced
        // data_tail would see the same records again and the ring would stay full).
        ulong delivered = ring.Delivered;
        int last = ring.Read(Count);
        Assert.Equal(delivered + (ulong)last, ring.Delivered);
        Assert.False(ring.HasData, "records left in the ring after reading all of them");
        Assert.Equal(0, ring.Read(Count));
    }

    private static void Spin(TimeSpan duration)
    {
        var until = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < until)
        {
        }
    }
}
