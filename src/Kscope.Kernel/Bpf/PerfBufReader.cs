using System.Buffers.Binary;
using Kscope.Kernel.Perf;

namespace Kscope.Kernel.Bpf;

using Kscope.Native;
using Kscope.Native.Perf;

/// <summary>
/// Consumer of a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one PERF_COUNT_SW_BPF_OUTPUT event with an mmap'd ring per
/// CPU, stored in the map at the CPU's index so bpf_perf_event_output(ctx, &amp;map, BPF_F_CURRENT_CPU, …)
/// lands there. Samples carry PERF_SAMPLE_RAW (u32 size + bytes); the kernel pads size+4 to 8 bytes, so a
/// record can be up to 4 bytes longer than what the program wrote. PERF_RECORD_LOST records
/// are summed in <see cref="Lost"/>.
/// </summary>
/// <remarks>
/// Each CPU's <see cref="PerfRing"/> holds a reference on its mapping while it is read, so a
/// <see cref="BufferReader.Dispose"/> from another thread unmaps only after the read in progress.
/// </remarks>
public sealed class PerfBufReader : BufferReader
{
    private readonly Map _map;
    private readonly PerfEvent[] _events;

    /// <param name="map">The perf event array.</param>
    /// <param name="pagesPerCpu">Data pages per CPU ring (a power of two).</param>
    /// <param name="wakeupEvents">Wake the reader every N records (1 = lowest latency).</param>
    public PerfBufReader(Map map, int pagesPerCpu = 8, uint wakeupEvents = 1)
        : this(map, Open(map, pagesPerCpu, wakeupEvents))
    {
    }

    private PerfBufReader(Map map, (Poller Poller, PerfEvent[] Events) parts)
        : base(parts.Poller)
    {
        _map = map;
        _events = parts.Events;
    }

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

    public override bool HasData
    {
        get
        {
            foreach (PerfEvent e in _events)
            {
                if (e.Ring!.HasData)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Drains every CPU's ring (up to <paramref name="max"/> samples); zero-copy spans of each sample's raw bytes.</summary>
    /// <remarks>References on every ring are taken first: a read either throws <see cref="ObjectDisposedException"/> or drains them all.</remarks>
    public override int Read(RecordHandler handler, int max = int.MaxValue)
    {
        int acquired = 0;
        try
        {
            for (; acquired < _events.Length; acquired++)
            {
                bool added = false;
                Acquire(_events[acquired].Ring!.Mapping, ref added);
            }
            return ReadAcquired(handler, max);
        }
        finally
        {
            for (int i = 0; i < acquired; i++)
            {
                _events[i].Ring!.Mapping.DangerousRelease();
            }
        }
    }

    private int ReadAcquired(RecordHandler handler, int max)
    {
        int delivered = 0;
        foreach (PerfEvent e in _events)
        {
            if (delivered >= max)
            {
                break;
            }
            int cpu = e.Cpu;
            PerfRecordHandler sample = (header, body) =>
            {
                if (header.Type == (uint)PerfRecordType.Sample && body.Length >= 4)
                {
                    int size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body), (uint)(body.Length - 4));
                    handler(cpu, body.Slice(4, size));
                    delivered++;
                }
            };
            if (max == int.MaxValue)
            {
                e.Ring!.ReadHeld(sample);
            }
            else
            {
                // One ring record per call, so that samples beyond max stay in the ring (LOST and other records are
                // consumed on the way).
                while (delivered < max && e.Ring!.ReadHeld(sample, 1) > 0)
                {
                }
            }
        }
        Delivered += (ulong)delivered;
        return delivered;
    }

    public override string ToString() => $"perf buffer reader of {_map}";

    private protected override void ReleaseResources()
    {
        foreach (PerfEvent e in _events)
        {
            e.Dispose();
        }
    }

    /// <summary>Opens, maps and registers one event per online CPU; on failure closes whatever it had opened.</summary>
    private static (Poller, PerfEvent[]) Open(Map map, int pagesPerCpu, uint wakeupEvents)
    {
        if (map.Type != MapType.PerfEventArray)
        {
            throw new ArgumentException($"{map} is not a perf event array", nameof(map));
        }
        var events = new List<PerfEvent>();
        Poller? poller = null;
        try
        {
            poller = new Poller();
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
                events.Add(perf);
                perf.MapRing(pagesPerCpu);
                map.Update(cpu, perf.Fd.Value);
                poller.Add(perf.Fd, (ulong)cpu);
                perf.Enable();
            }
            return (poller, events.ToArray());
        }
        catch
        {
            events.ForEach(e => e.Dispose());
            poller?.Dispose();
            throw;
        }
    }
}
