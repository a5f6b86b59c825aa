using System.Buffers.Binary;
using Kscope.Diagnostics.Trace;
using Kscope.Diagnostics.Trace.Gadgets.Syscalls;

namespace Kscope.Diagnostics.Tests.Trace;

/// <summary>The syscalls fast path (bytes straight to output) writes exactly what the decoded record writes.</summary>
public sealed class TraceWriterFastPathTests
{
    private static readonly Gadget s_syscalls = GadgetCatalog.Find("syscalls")!;

    private static IEnumerable<byte[]> Records()
    {
        var random = new Random(5);
        ulong[] latencies = [0, 1, 999, 1000, 1049, 99_949, 99_950, 99_999, 100_000, 999_499, 999_999, 1_000_000, 12_345_678, 999_999_999, 1_000_000_000, 5_432_100_000, ulong.MaxValue];
        long[] results = [0, 1, 3, -1, -2, -13, -4095, -4096, -5000, long.MinValue, long.MaxValue, 123_456_789_012];
        long[] ids = [0, 39, 110, 146, 202, 231, 435, 461, 1000, -1, long.MaxValue];
        byte[][] comms = ["storm"u8.ToArray(), "0123456789abcdef"u8.ToArray(), "é-ü"u8.ToArray(), [0xff, 0xfe, 0x41, 0], [], "a b\"\\\t"u8.ToArray()];
        for (int i = 0; i < 400; i++)
        {
            byte[] b = new byte[SlowSyscallRecord.Size + (i % 3 == 0 ? 8 : 0)];
            random.NextBytes(b);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), i % 5 == 0 ? uint.MaxValue : (uint)random.Next(1, 5_000_000));
            b.AsSpan(32, 16).Clear();
            comms[i % comms.Length].CopyTo(b, 32);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(48), ids[i % ids.Length]);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(56), results[i % results.Length]);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(64), i < latencies.Length * 2 ? latencies[i % latencies.Length] : (ulong)random.NextInt64());
            if (i % 4 == 0)
            {
                b.AsSpan(72, 48).Clear();
            }
            yield return b;
        }
    }

    private static (string Slow, string Fast, int FastWrites) Both(bool json)
    {
        IReadOnlyList<string> stream = s_syscalls.StreamColumns!;
        var slowOut = new StringWriter();
        var fastOut = new StringWriter();
        var slow = new TraceWriter(slowOut, "syscalls", json, s_syscalls.Columns);
        var fast = new TraceWriter(fastOut, "syscalls", json, s_syscalls.Columns);
        int fastWrites = 0;
        int i = 0;
        foreach (byte[] r in Records())
        {
            if (i++ == 200)
            {
                slow.NewTable(); // an --interval table in between: the header comes again
                fast.NewTable();
            }
            slow.Write(SlowSyscallRecord.Parse(r), "event", stream);
            if (fast.TryWriteSyscallEvent(r, stream))
            {
                fastWrites++;
            }
            else
            {
                fast.Write(SlowSyscallRecord.Parse(r), "event", stream);
            }
        }
        slow.Flush();
        fast.Flush();
        return (slowOut.ToString(), fastOut.ToString(), fastWrites);
    }

    [Fact]
    public void TryWriteSyscallEvent_Text_SameBytesAsDecodedRecord()
    {
        (string slow, string fast, int fastWrites) = Both(json: false);
        Assert.Equal(slow, fast);
        Assert.Equal(398, fastWrites); // all but the rows after a header
        Assert.DoesNotContain("…", slow, StringComparison.Ordinal); // nothing is cut:
        Assert.Contains(" sched_get_priority_max ", slow, StringComparison.Ordinal); // a name longer than its column, whole
    }

    [Fact]
    public void TryWriteSyscallEvent_Json_SameBytesAsDecodedRecord()
    {
        (string slow, string fast, int fastWrites) = Both(json: true);
        Assert.Equal(slow, fast);
        Assert.Equal(399, fastWrites); // all but the first (the writer switches to the stream columns)
    }

    [Fact]
    public void TryWriteSyscallEvent_ShortRecord_LeavesItToTheDecoder()
    {
        var writer = new TraceWriter(new StringWriter(), "syscalls", json: true, s_syscalls.StreamColumns!);
        Assert.False(writer.TryWriteSyscallEvent(new byte[SlowSyscallRecord.Size - 1], s_syscalls.StreamColumns!));
    }
}
