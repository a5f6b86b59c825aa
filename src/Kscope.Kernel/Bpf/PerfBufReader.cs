using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Kscope.Kernel.Perf;

namespace Kscope.Kernel.Bpf;

using Kscope.Native;

/// <summary>
/// Consumer of a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one PERF_COUNT_SW_BPF_OUTPUT event with an mmap'd ring per
/// CPU, stored in the map at the CPU's index so bpf_perf_event_output(ctx, &amp;map, BPF_F_CURRENT_CPU, …)
/// lands there. Samples carry PERF_SAMPLE_RAW (u32 size + bytes); the kernel pads size+4 to 8 bytes, so a
/// record can be up to 4 bytes longer than what the program wrote. PERF_RECORD_LOST records
/// are summed in <see cref="Lost"/>.
/// </summary>
public sealed class PerfBufReader : IDisposable
{
    private const ulong CancelCookie = ulong.MaxValue;

    private readonly Map _map;
    private readonly List<PerfEvent> _events = new();
    private readonly Epoll _epoll;
    private readonly SafeFd _cancel;

    /// <param name="map">The perf event array.</param>
    /// <param name="pagesPerCpu">Data pages per CPU ring (a power of two).</param>
    /// <param name="wakeupEvents">Wake the reader every N records (1 = lowest latency).</param>
    public PerfBufReader(Map map, int pagesPerCpu = 8, uint wakeupEvents = 1)
    {
        if (map.Type != MapType.PerfEventArray)
        {
            throw new ArgumentException($"{map} is not a perf event array", nameof(map));
        }
        _map = map;
        _epoll = new Epoll();
        _cancel = EventFd.Create();
        try
        {
            _epoll.Add(_cancel, Epoll.In, CancelCookie);
            int cpus = Math.Min(PossibleCpus.Count, (int)map.MaxEntries);
            for (int cpu = 0; cpu < cpus; cpu++)
            {
                var attr = new PerfEventAttr
                {
                    Type = PerfEvents.TypeSoftware,
                    Config = PerfEvents.SoftwareBpfOutput,
                    SampleType = PerfEvents.SampleRaw,
                    SamplePeriod = 1,
                    WakeupEvents = wakeupEvents,
                };
                PerfEvent perf;
                try
                {
                    perf = PerfEvent.Open(attr, -1, cpu, operation: $"perf buffer '{map.Name}' cpu {cpu}: perf_event_open");
                }
                catch (KernelException e) when (e.Errno == Errno.ENODEV)
                {
                    continue; // offline CPU
                }
                _events.Add(perf);
                perf.MapRing(pagesPerCpu);
                map.Update(cpu, perf.Fd.Value);
                _epoll.Add(perf.Fd, Epoll.In, (ulong)cpu);
                perf.Enable();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Records delivered to handlers.</summary>
    public ulong Delivered { get; private set; }

    /// <summary>Records the kernel dropped because a CPU's ring was full (sum of PERF_RECORD_LOST).</summary>
    public ulong Lost
    {
        get
        {
            ulong lost = 0;
            foreach (PerfEvent e in _events)
            {
                lost += e.Ring!.Lost;
            }
            return lost;
        }
    }

    /// <summary>Drains every CPU's ring; zero-copy spans of each sample's raw bytes.</summary>
    public int Read(RecordHandler handler)
    {
        int delivered = 0;
        foreach (PerfEvent e in _events)
        {
            int cpu = e.Cpu;
            e.Ring!.Read((header, body) =>
            {
                if (header.Type == (uint)PerfRecordType.Sample && body.Length >= 4)
                {
                    int size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body), (uint)(body.Length - 4));
                    handler(cpu, body.Slice(4, size));
                    delivered++;
                }
            });
        }
        Delivered += (ulong)delivered;
        return delivered;
    }

    /// <summary>Waits for any CPU's ring to signal, the timeout, or <see cref="Cancel"/>.</summary>
    public bool Wait(int timeoutMilliseconds)
    {
        foreach (PerfEvent e in _events)
        {
            if (e.Ring!.HasData)
            {
                return true;
            }
        }
        Span<EpollEvent> events = stackalloc EpollEvent[8];
        int n = _epoll.Wait(events, timeoutMilliseconds);
        for (int i = 0; i < n; i++)
        {
            if (events[i].Data == CancelCookie)
            {
                return false;
            }
        }
        return n > 0;
    }

    public void Cancel() => EventFd.Signal(_cancel);

    /// <summary>Every record as a copy, until cancelled.</summary>
    public async IAsyncEnumerable<BufferRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using CancellationTokenRegistration registration = cancellationToken.Register(Cancel);
        var batch = new List<BufferRecord>();
        while (!cancellationToken.IsCancellationRequested)
        {
            Read((cpu, data) => batch.Add(new BufferRecord(cpu, data.ToArray())));
            foreach (BufferRecord r in batch)
            {
                yield return r;
            }
            if (batch.Count == 0)
            {
                await Task.Run(() => Wait(250), CancellationToken.None).ConfigureAwait(false);
            }
            batch.Clear();
        }
    }

    public void Dispose()
    {
        foreach (PerfEvent e in _events)
        {
            e.Dispose();
        }
        _events.Clear();
        _epoll.Dispose();
        _cancel.Dispose();
    }

    public override string ToString() => $"perf buffer reader of {_map}";
}
