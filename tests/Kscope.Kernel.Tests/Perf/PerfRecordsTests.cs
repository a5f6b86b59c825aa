using System.Buffers.Binary;
using System.Text;
using Kscope.Formats;
using Kscope.Kernel.Perf;
using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Kernel.Tests.Perf;

/// <summary>Side-band perf records: a real MMAP2 from the kernel, and hand-built records (every prefix rejected with the typed error).</summary>
public class PerfRecordsTests
{
    private const ulong SampleType = PerfRecords.SampleTid | PerfRecords.SampleTime;

    [Fact]
    [Trait("Category", "Kernel")]
    public void Mmap2_ExecutableFileMappedWhileSampling_DecodedWithPathAndTime()
    {
        Requires.Root();
        var attr = new PerfEventAttr
        {
            Type = PerfEvents.TypeSoftware,
            Config = PerfEvents.SoftwareCpuClock,
            SamplePeriod = 1_000_000_000, // side-band only: effectively no samples
            SampleType = SampleType,
            Flags = PerfEventAttrFlags.Disabled | PerfEventAttrFlags.Mmap | PerfEventAttrFlags.Mmap2 | PerfEventAttrFlags.SampleIdAll,
            WakeupEvents = 1,
        };
        using PerfEvent perf = PerfEvent.Open(attr, pid: 0, cpu: -1);
        PerfRing ring = perf.MapRing(dataPages: 4);
        perf.Enable();
        string file = "/bin/true";
        using (SafeFd fd = Posix.Open(file, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC))
        using (MemoryMapping.Map(fd, 4096, MemoryMapping.ProtRead | 0x4 /* PROT_EXEC */, MemoryMapping.MapPrivate, 0, "mmap /bin/true"))
        {
        }
        perf.Disable();
        var found = new List<PerfMmap2>();
        ring.Read((header, body) =>
        {
            if (header.Type == (uint)PerfRecordType.Mmap2)
            {
                found.Add(PerfRecords.DecodeMmap2(header.Misc, body, SampleType));
            }
        });
        ulong inode = FileIds.Inode(file);
        PerfMmap2 m = Assert.Single(found, r => r.Inode == inode);
        Assert.EndsWith("bin/true", m.FileName, StringComparison.Ordinal); // /bin may be a link to /usr/bin
        Assert.Equal(Environment.ProcessId, m.Pid);
        Assert.Equal(4096UL, m.Length);
        Assert.NotEqual(0U, m.Prot & 4);
        Assert.True(m.Time > 0, "sample_id_all trailer carries the time");
    }

    [Fact]
    public void Comm_HandBuilt_DecodesNameAndExecFlag()
    {
        byte[] body = Comm("worker", out _);
        PerfComm c = PerfRecords.DecodeComm(PerfRecords.MiscCommExec, body, SampleType);
        Assert.Equal((42, 43, "worker", true, 777UL), (c.Pid, c.Tid, c.Comm, c.IsExec, c.Time));
        Assert.False(PerfRecords.DecodeComm(0, body, SampleType).IsExec);
    }

    [Fact]
    public void Mmap2_HandBuiltWithBuildId_DecodesBuildIdInsteadOfInode()
    {
        byte[] body = Mmap2("/usr/lib/libc.so.6", buildId: true);
        PerfMmap2 m = PerfRecords.DecodeMmap2(PerfRecords.MiscMmapBuildId, body, SampleType);
        Assert.Equal("0102030405060708090a0b0c0d0e0f1011121314", m.BuildId);
        Assert.Equal("/usr/lib/libc.so.6", m.FileName);
        Assert.Equal((0x7f00_0000_0000UL, 0x2000UL, 0x1000UL, 777UL), (m.Address, m.Length, m.PageOffset, m.Time));
    }

    [Fact]
    public void ForkExitLostThrottle_HandBuilt_Decode()
    {
        byte[] task = new byte[24 + 16];
        BinaryPrimitives.WriteInt32LittleEndian(task, 10);
        BinaryPrimitives.WriteInt32LittleEndian(task.AsSpan(4), 1);
        BinaryPrimitives.WriteInt32LittleEndian(task.AsSpan(8), 10);
        BinaryPrimitives.WriteInt32LittleEndian(task.AsSpan(12), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(task.AsSpan(16), 99);
        PerfTaskRecord fork = PerfRecords.DecodeTask(PerfRecordType.Fork, task);
        Assert.True(fork.IsNewProcess);
        Assert.Equal(99UL, fork.Time);
        Assert.False(PerfRecords.DecodeTask(PerfRecordType.Exit, task).IsNewProcess);
        byte[] lost = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(lost.AsSpan(8), 5);
        Assert.Equal(5UL, PerfRecords.DecodeLost(lost).Lost);
        Assert.True(PerfRecords.DecodeThrottle(PerfRecordType.Throttle, new byte[24]).Throttled);
        Assert.False(PerfRecords.DecodeThrottle(PerfRecordType.Unthrottle, new byte[24]).Throttled);
    }

    [Fact]
    public void SideBandRecords_EveryPrefix_TypedErrorOrValue()
    {
        byte[] mmap = Mmap2("/opt/app/bin/server", buildId: false);
        byte[] comm = Comm("kworker/0:1", out _);
        for (int n = 0; n < mmap.Length; n++)
        {
            byte[] prefix = mmap[..n];
            if (n < 64 + 16 || n % 8 != 0)
            {
                // shorter than the fixed part and the trailer, or not 8-byte aligned as the kernel writes
                Assert.Throws<MalformedDataException>(() => PerfRecords.DecodeMmap2(0, prefix, SampleType));
                continue;
            }
            try
            {
                PerfRecords.DecodeMmap2(0, prefix, SampleType); // a cut inside the name padding can still hold a NUL
            }
            catch (MalformedDataException)
            {
            }
        }
        for (int n = 0; n < comm.Length; n++)
        {
            byte[] prefix = comm[..n];
            try
            {
                PerfRecords.DecodeComm(0, prefix, SampleType); // a shorter name padding may still hold a NUL
            }
            catch (MalformedDataException)
            {
            }
        }
        for (int n = 0; n < 24; n++)
        {
            byte[] prefix = new byte[n];
            Assert.Throws<MalformedDataException>(() => PerfRecords.DecodeTask(PerfRecordType.Fork, prefix));
            Assert.Throws<MalformedDataException>(() => PerfRecords.DecodeThrottle(PerfRecordType.Throttle, prefix));
        }
        // A name without its NUL is rejected, not read past.
        byte[] noNul = Comm("abcdefgh", out int nameAt);
        noNul.AsSpan(nameAt, noNul.Length - nameAt - 16).Fill((byte)'x'); // name and its padding, not the trailer
        Assert.Throws<MalformedDataException>(() => PerfRecords.DecodeComm(0, noNul, SampleType));
    }

    private static byte[] Trailer(List<byte> body)
    {
        byte[] trailer = new byte[16]; // {u32 pid, tid}, u64 time
        BinaryPrimitives.WriteInt32LittleEndian(trailer, 42);
        BinaryPrimitives.WriteInt32LittleEndian(trailer.AsSpan(4), 43);
        BinaryPrimitives.WriteUInt64LittleEndian(trailer.AsSpan(8), 777);
        body.AddRange(trailer);
        return [.. body];
    }

    private static void Name(List<byte> body, string name)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(name);
        int padded = (bytes.Length + 1 + 7) & ~7;
        body.AddRange(bytes);
        body.AddRange(new byte[padded - bytes.Length]);
    }

    private static byte[] Comm(string name, out int nameAt)
    {
        var body = new List<byte>();
        body.AddRange(BitConverter.GetBytes(42));
        body.AddRange(BitConverter.GetBytes(43));
        nameAt = body.Count;
        Name(body, name);
        return Trailer(body);
    }

    private static byte[] Mmap2(string file, bool buildId)
    {
        var body = new List<byte>();
        body.AddRange(BitConverter.GetBytes(42));
        body.AddRange(BitConverter.GetBytes(43));
        body.AddRange(BitConverter.GetBytes(0x7f00_0000_0000UL));
        body.AddRange(BitConverter.GetBytes(0x2000UL));
        body.AddRange(BitConverter.GetBytes(0x1000UL));
        if (buildId)
        {
            body.Add(20);
            body.AddRange(new byte[3]);
            body.AddRange(Enumerable.Range(1, 20).Select(i => (byte)i));
        }
        else
        {
            body.AddRange(BitConverter.GetBytes(8U));
            body.AddRange(BitConverter.GetBytes(1U));
            body.AddRange(BitConverter.GetBytes(123456UL));
            body.AddRange(BitConverter.GetBytes(0UL));
        }
        body.AddRange(BitConverter.GetBytes(5U)); // PROT_READ | PROT_EXEC
        body.AddRange(BitConverter.GetBytes(2U)); // MAP_PRIVATE
        Name(body, file);
        return Trailer(body);
    }
}
