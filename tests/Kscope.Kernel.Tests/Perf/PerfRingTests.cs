using Kscope.Kernel.Perf;
using Kscope.Native;

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
        var deadline = DateTime.UtcNow.AddSeconds(5);
        Span<EpollEvent> ready = stackalloc EpollEvent[4];
        while (samples < 20 && DateTime.UtcNow < deadline)
        {
            Spin(TimeSpan.FromMilliseconds(20));
            if (epoll.Wait(ready, 100) > 0)
            {
                Assert.Equal(7UL, ready[0].Data);
            }
            ring.Read((header, body) =>
            {
                if (header.Type == (uint)PerfRecordType.Sample)
                {
                    Assert.Equal(self, BitConverter.ToInt32(body)); // PERF_SAMPLE_TID: u32 pid, u32 tid
                    samples++;
                }
            });
        }
        perf.Disable();
        Assert.True(samples >= 20, $"only {samples} samples in 5 s");
        Assert.False(ring.HasData && ring.Read((_, _) => { }) < 0);
    }

    private static void Spin(TimeSpan duration)
    {
        var until = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < until)
        {
        }
    }
}
