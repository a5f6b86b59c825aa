using Kscope.Formats;

namespace Kscope.Kernel.Perf;

/// <summary>
/// Decodes perf ring records (include/uapi/linux/perf_event.h, enum perf_event_type). SAMPLE bodies
/// hold, in this order, the fields whose PERF_SAMPLE_* bits are set: IDENTIFIER u64, IP u64,
/// TID {u32 pid, u32 tid}, TIME u64, ADDR u64, ID u64, STREAM_ID u64, CPU {u32 cpu, u32 res},
/// PERIOD u64, (READ unsupported), CALLCHAIN {u64 nr, u64 ips[nr]}.
/// Side-band records (MMAP2, COMM, FORK, EXIT, LOST, THROTTLE) end, with attr.sample_id_all, in a
/// struct sample_id trailer: {u32 pid, tid} if TID, u64 time if TIME, u64 id if ID, u64 stream_id if
/// STREAM_ID, {u32 cpu, res} if CPU, u64 id if IDENTIFIER.
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

    /// <summary>PERF_RECORD_MISC_COMM_EXEC: the COMM record comes from exec.</summary>
    public const ushort MiscCommExec = 1 << 13;

    /// <summary>PERF_RECORD_MISC_MMAP_BUILD_ID: the MMAP2 record carries a build id instead of device/inode.</summary>
    public const ushort MiscMmapBuildId = 1 << 14;

    /// <summary>Bytes of the sample_id trailer for these sample_type bits (0 unless the event set sample_id_all).</summary>
    public static int SampleIdSize(ulong sampleType)
    {
        int size = 0;
        foreach (ulong bit in (ReadOnlySpan<ulong>)[SampleTid, SampleTime, SampleId, SampleStreamId, SampleCpu, SampleIdentifier])
        {
            size += (sampleType & bit) != 0 ? 8 : 0;
        }
        return size;
    }

    /// <summary>The time in a side-band record's sample_id trailer (0 when the trailer has none).</summary>
    public static ulong SampleIdTime(ReadOnlySpan<byte> body, ulong sampleType)
    {
        int size = SampleIdSize(sampleType);
        if ((sampleType & SampleTime) == 0 || size > body.Length)
        {
            return 0;
        }
        int at = body.Length - size + ((sampleType & SampleTid) != 0 ? 8 : 0);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(body[at..]);
    }

    /// <summary>
    /// PERF_RECORD_MMAP2: u32 pid, tid; u64 addr, len, pgoff; u32 maj, min; u64 ino, ino_generation (or
    /// u8 build_id_size, 3 reserved bytes, u8 build_id[20] with MISC_MMAP_BUILD_ID); u32 prot, flags;
    /// char filename[] (NUL-terminated, padded to 8); sample_id.
    /// </summary>
    public static PerfMmap2 DecodeMmap2(ushort misc, ReadOnlySpan<byte> body, ulong sampleType)
    {
        var r = new SpanReader(body, "perf mmap2 record");
        int pid = r.I32(), tid = r.I32();
        ulong address = r.U64(), length = r.U64(), pageOffset = r.U64();
        uint major = 0, minor = 0;
        ulong inode = 0;
        string? buildId = null;
        if ((misc & MiscMmapBuildId) != 0)
        {
            int size = r.U8();
            r.Skip(3);
            ReadOnlySpan<byte> id = r.Take(20);
            if (size > 20)
            {
                throw r.Error($"build id of {size} bytes (at most 20)");
            }
            buildId = Convert.ToHexStringLower(id[..size]);
        }
        else
        {
            major = r.U32();
            minor = r.U32();
            inode = r.U64();
            r.U64(); // ino_generation
        }
        uint prot = r.U32(), flags = r.U32();
        string name = FileName(ref r, sampleType);
        return new PerfMmap2(pid, tid, address, length, pageOffset, major, minor, inode, buildId, prot, flags, name, SampleIdTime(body, sampleType));
    }

    /// <summary>PERF_RECORD_COMM: u32 pid, tid; char comm[] (NUL-terminated, padded to 8); sample_id.</summary>
    public static PerfComm DecodeComm(ushort misc, ReadOnlySpan<byte> body, ulong sampleType)
    {
        var r = new SpanReader(body, "perf comm record");
        int pid = r.I32(), tid = r.I32();
        string comm = FileName(ref r, sampleType);
        return new PerfComm(pid, tid, comm, (misc & MiscCommExec) != 0, SampleIdTime(body, sampleType));
    }

    /// <summary>PERF_RECORD_FORK / PERF_RECORD_EXIT: u32 pid, ppid, tid, ptid; u64 time; sample_id.</summary>
    public static PerfTaskRecord DecodeTask(PerfRecordType type, ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body, "perf fork/exit record");
        int pid = r.I32(), ppid = r.I32(), tid = r.I32(), ptid = r.I32();
        return new PerfTaskRecord(type == PerfRecordType.Exit, pid, ppid, tid, ptid, r.U64());
    }

    /// <summary>PERF_RECORD_LOST: u64 id, lost; sample_id.</summary>
    public static PerfLost DecodeLost(ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body, "perf lost record");
        return new PerfLost(r.U64(), r.U64());
    }

    /// <summary>PERF_RECORD_THROTTLE / UNTHROTTLE: u64 time, id, stream_id; sample_id.</summary>
    public static PerfThrottle DecodeThrottle(PerfRecordType type, ReadOnlySpan<byte> body)
    {
        var r = new SpanReader(body, "perf throttle record");
        return new PerfThrottle(type == PerfRecordType.Throttle, r.U64(), r.U64(), r.U64());
    }

    /// <summary>A NUL-terminated string filling the record up to the sample_id trailer.</summary>
    private static string FileName(ref SpanReader r, ulong sampleType)
    {
        if ((r.Position + r.Remaining) % 8 != 0)
        {
            throw r.Error("record size is not a multiple of 8 (the kernel pads names to 8 bytes)");
        }
        int room = r.Remaining - SampleIdSize(sampleType);
        if (room < 0)
        {
            throw r.Error("record too short for its sample_id trailer");
        }
        ReadOnlySpan<byte> bytes = r.Take(room);
        int nul = bytes.IndexOf((byte)0);
        if (nul < 0)
        {
            throw r.Error("name is not NUL-terminated");
        }
        return System.Text.Encoding.UTF8.GetString(bytes[..nul]);
    }

    public static PerfSample DecodeSample(ReadOnlySpan<byte> body, ulong sampleType)
    {
        if ((sampleType & SampleRead) != 0)
        {
            throw new ArgumentException("PERF_SAMPLE_READ is not supported", nameof(sampleType));
        }
        var r = new SpanReader(body, "perf sample");
        int pid = 0, tid = 0;
        ulong time = 0, period = 1, id = 0;
        ulong[] chain = [];
        if ((sampleType & SampleIdentifier) != 0) { id = r.U64(); }
        if ((sampleType & SampleIp) != 0) { r.U64(); }
        if ((sampleType & SampleTid) != 0) { pid = r.I32(); tid = r.I32(); }
        if ((sampleType & SampleTime) != 0) { time = r.U64(); }
        if ((sampleType & SampleAddr) != 0) { r.U64(); }
        if ((sampleType & SampleId) != 0) { id = r.U64(); }
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
        return new PerfSample(pid, tid, time, period, chain, id);
    }
}
