using Kscope.Formats;

namespace Kscope.Kernel.Perf;

/// <summary>
/// Decodes perf ring records (include/uapi/linux/perf_event.h, enum perf_event_type). SAMPLE bodies
/// hold, in this order, the fields whose PERF_SAMPLE_* bits are set: IDENTIFIER u64, IP u64,
/// TID {u32 pid, u32 tid}, TIME u64, ADDR u64, ID u64, STREAM_ID u64, CPU {u32 cpu, u32 res},
/// PERIOD u64, (READ unsupported), CALLCHAIN {u64 nr, u64 ips[nr]}.
/// </summary>
public static class PerfRecords
{
    public const ulong SampleIdentifier = 1UL << 16;
    public const ulong SampleIp = 1UL << 0;
    public const ulong SampleTid = 1UL << 1;
    public const ulong SampleTime = 1UL << 2;
    public const ulong SampleAddr = 1UL << 3;
    public const ulong SampleRead = 1UL << 4;
    public const ulong SampleCallchain = 1UL << 5;
    public const ulong SampleId = 1UL << 6;
    public const ulong SampleCpu = 1UL << 7;
    public const ulong SamplePeriod = 1UL << 8;
    public const ulong SampleStreamId = 1UL << 9;

    /// <summary>Callchain context markers (enum perf_callchain_context): values at or above this are markers, not addresses.</summary>
    public const ulong ContextMax = unchecked((ulong)-4095L);
    public const ulong ContextHv = unchecked((ulong)-32L);
    public const ulong ContextKernel = unchecked((ulong)-128L);
    public const ulong ContextUser = unchecked((ulong)-512L);

    public static PerfSample DecodeSample(ReadOnlySpan<byte> body, ulong sampleType)
    {
        if ((sampleType & SampleRead) != 0)
        {
            throw new ArgumentException("PERF_SAMPLE_READ is not supported", nameof(sampleType));
        }
        var r = new SpanReader(body, "perf sample");
        int pid = 0, tid = 0;
        ulong time = 0, period = 1;
        ulong[] chain = [];
        if ((sampleType & SampleIdentifier) != 0) { r.U64(); }
        if ((sampleType & SampleIp) != 0) { r.U64(); }
        if ((sampleType & SampleTid) != 0) { pid = r.I32(); tid = r.I32(); }
        if ((sampleType & SampleTime) != 0) { time = r.U64(); }
        if ((sampleType & SampleAddr) != 0) { r.U64(); }
        if ((sampleType & SampleId) != 0) { r.U64(); }
        if ((sampleType & SampleStreamId) != 0) { r.U64(); }
        if ((sampleType & SampleCpu) != 0) { r.U64(); }
        if ((sampleType & SamplePeriod) != 0) { period = r.U64(); }
        if ((sampleType & SampleCallchain) != 0)
        {
            ulong nr = r.U64();
            if (nr > (ulong)r.Remaining / 8)
            {
                throw r.Error($"callchain of {nr} entries does not fit in the record");
            }
            chain = new ulong[nr];
            for (int i = 0; i < chain.Length; i++)
            {
                chain[i] = r.U64();
            }
        }
        return new PerfSample(pid, tid, time, period, chain);
    }
}
