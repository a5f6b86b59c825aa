using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Kscope.Diagnostics.Trace;
using Kscope.Diagnostics.Trace.Gadgets.Exec;
using Kscope.Diagnostics.Trace.Gadgets.Futex;
using Kscope.Diagnostics.Trace.Gadgets.OffCpu;
using Kscope.Diagnostics.Trace.Gadgets.Oom;
using Kscope.Diagnostics.Trace.Gadgets.Open;
using Kscope.Diagnostics.Trace.Gadgets.Runqlat;
using Kscope.Diagnostics.Trace.Gadgets.Signal;
using Kscope.Diagnostics.Trace.Gadgets.Syscalls;
using Kscope.Diagnostics.Trace.Gadgets.Tcp;
using Kscope.Formats;

namespace Kscope.Diagnostics.Tests.Trace;

public sealed class TraceRecordsTests
{
    private static byte[] Header(int size, uint pid = 42, string comm = "true")
    {
        byte[] b = new byte[size];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 123_456);      // ts
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 7);  // cgroup id
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), pid);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), pid + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), 1);
        Encoding.ASCII.GetBytes(comm).CopyTo(b, 32);
        return b;
    }

    private static byte[] Exec()
    {
        byte[] b = Header(ExecRecord.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(48), 1);   // ppid
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(52), -2);   // ENOENT
        byte[] args = Encoding.ASCII.GetBytes("/bin/true\0--a b\0");
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(56), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), (uint)args.Length);
        Encoding.ASCII.GetBytes("/bin/true").CopyTo(b, 72);
        args.CopyTo(b, 328);
        return b;
    }

    [Fact]
    public void ExecParse_KnownRecord_DecodesEveryField()
    {
        ExecRecord r = ExecRecord.Parse(Exec());
        Assert.Equal((42u, 43u, 1000u, 1u, "true", 7UL, 123_456UL), (r.Header.Pid, r.Header.Tid, r.Header.Uid, r.Header.NamespacePid, r.Header.Comm, r.Header.CgroupId, r.TimestampNs));
        Assert.Equal((1u, -2, "/bin/true"), (r.ParentPid, r.Result, r.Filename));
        Assert.Equal(["/bin/true", "--a b"], r.Args);
    }

    [Fact]
    public void ExecParse_EveryPrefix_ThrowsTypedError()
    {
        byte[] full = Exec();
        for (int n = 0; n < full.Length; n++)
        {
            Assert.Throws<MalformedDataException>(() => ExecRecord.Parse(full.AsSpan(0, n)));
        }
    }

    [Fact]
    public void ExecParse_ArgsSizeBeyondBuffer_ThrowsTypedError()
    {
        byte[] b = Exec();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), 10_000);
        Assert.Throws<MalformedDataException>(() => ExecRecord.Parse(b));
    }

    [Fact]
    public void OpenParse_FailedOpen_ShowsErrnoAndFlags()
    {
        byte[] b = Header(OpenRecord.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), 1500);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(56), -13);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(64), 0x80241); // O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC
        Encoding.ASCII.GetBytes("/etc/shadow").CopyTo(b, 80);
        OpenRecord r = OpenRecord.Parse(b);
        var fields = r.Fields().ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal("EACCES", fields["error"]);
        Assert.Null(fields["fd"]);
        Assert.Equal("O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC", fields["flags"]);
        Assert.Equal("/etc/shadow", fields["path"]);
    }

    [Fact]
    public void TcpParse_RefusedIpv4Connect_DecodesAddresses()
    {
        byte[] b = Header(TcpRecord.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64), 1);   // connect
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(68), 2);    // SYN_SENT
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(72), 7);    // CLOSE
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(76), -1);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(80), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(82), 40000);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(84), 9);
        b[88] = 127; b[91] = 1; b[104] = 127; b[107] = 1;
        TcpRecord r = TcpRecord.Parse(b);
        Assert.Equal((TcpEventKind.Connect, "127.0.0.1", (ushort)9, "CLOSE"), (r.Kind, r.Destination.ToString(), r.DestinationPort, TcpRecord.StateName(r.NewState)));
        Assert.False((bool)r.Fields().Single(f => f.Name == "ok").Value!);
    }

    [Fact]
    public void TcpParse_UnknownKind_ThrowsTypedError()
    {
        byte[] b = Header(TcpRecord.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64), 99);
        Assert.Throws<MalformedDataException>(() => TcpRecord.Parse(b));
    }

    [Fact]
    public void SignalParse_KillOfChild_NamesSignalAndTarget()
    {
        byte[] b = Header(SignalRecord.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(48), 1);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(52), 15);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(68), 4242);
        Encoding.ASCII.GetBytes("sleep").CopyTo(b, 96);
        SignalRecord r = SignalRecord.Parse(b);
        var fields = r.Fields().ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal(("generate", "SIGTERM", 4242L, "sleep", "delivered"), (fields["event"], fields["signal"], fields["target_tid"], fields["target_comm"], fields["result"]));
    }

    [Fact]
    public void Decode_EveryStreamingGadget_EveryPrefixThrowsTyped()
    {
        foreach ((string gadget, int size) in new[] { ("exec", ExecRecord.Size), ("open", OpenRecord.Size), ("syscalls", SlowSyscallRecord.Size), ("runqlat", RunqRecord.Size), ("oom", OomRecord.Size) })
        {
            byte[] full = Header(size);
            Assert.NotNull(GadgetCatalog.Find(gadget)!.Decode(full));
            for (int n = 0; n < size; n += 7)
            {
                Assert.Throws<MalformedDataException>(() => GadgetCatalog.Find(gadget)!.Decode(full.AsSpan(0, n)));
            }
        }
    }

    [Fact]
    public void JsonLine_ExecRecord_HasTheDocumentedSchema()
    {
        string line = TraceWriter.JsonLine("event", "exec", ExecRecord.Parse(Exec()).Fields());
        using JsonDocument doc = JsonDocument.Parse(line);
        JsonElement root = doc.RootElement;
        (string Name, JsonValueKind Kind)[] schema =
        [
            ("schema", JsonValueKind.String), ("type", JsonValueKind.String), ("gadget", JsonValueKind.String), ("time_ns", JsonValueKind.Number), ("pid", JsonValueKind.Number),
            ("tid", JsonValueKind.Number), ("ns_pid", JsonValueKind.Number), ("uid", JsonValueKind.Number), ("comm", JsonValueKind.String),
            ("cgroup_id", JsonValueKind.Number), ("ppid", JsonValueKind.Number), ("result", JsonValueKind.Number), ("error", JsonValueKind.String),
            ("filename", JsonValueKind.String), ("args", JsonValueKind.Array), ("args_truncated", JsonValueKind.False),
        ];
        Assert.Equal(schema.Select(s => s.Name), root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(TraceWriter.Schema, root.GetProperty("schema").GetString());
        foreach ((string name, JsonValueKind kind) in schema)
        {
            Assert.Equal(kind, root.GetProperty(name).ValueKind);
        }
    }

    [Fact]
    public void SyscallStats_Histogram_RendersAndNamesSyscall()
    {
        byte[] v = new byte[SyscallStats.Size];
        BinaryPrimitives.WriteUInt64LittleEndian(v, 3);
        BinaryPrimitives.WriteUInt64LittleEndian(v.AsSpan(16), 3000);
        BinaryPrimitives.WriteUInt64LittleEndian(v.AsSpan(32 + 8 * 10), 3); // [1024ns, 2048ns)
        SyscallStats s = SyscallStats.Parse((uint)SyscallNames.Number("openat")!, v);
        Assert.Equal("openat", s.Name);
        Assert.Equal(2048UL, s.Histogram.Quantile(0.99));
        Assert.Contains("[1us, 2us) 3 |@@@@", s.Histogram.Render(Durations.Format), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("500ms", 500)]
    [InlineData("2m", 120_000)]
    [InlineData("1.5", 1_500)]
    public void Durations_TryParse_Accepts(string text, int ms)
    {
        Assert.True(Durations.TryParse(text, out TimeSpan value));
        Assert.Equal(ms, (int)value.TotalMilliseconds);
    }

    [Fact]
    public void SyscallNames_KnownNumbers_MatchTheArchitecture()
    {
        Assert.Equal("read", SyscallNames.Name(SyscallNames.Number("read")!.Value));
        Assert.Equal("syscall_99999", SyscallNames.Name(99999));
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Equal(("openat", "futex", "execve"), (SyscallNames.Name(257), SyscallNames.Name(202), SyscallNames.Name(59)));
        }
    }

    [Fact]
    public void Filter_Rodata_EncodesEveryFilter()
    {
        var f = new TraceFilter { Pids = new HashSet<int> { 5 }, FollowChildren = true, Uid = 1000, Comm = "nginx", CgroupId = 77 };
        var v = f.RodataValues();
        Assert.Equal((byte)1, v["filter_pids"]);
        Assert.Equal((byte)1, v["follow_children"]);
        Assert.Equal(1000u, v["filter_uid"]);
        Assert.Equal(77UL, v["filter_cgroup"]);
        Assert.Equal("nginx"u8.ToArray().Concat(new byte[11]), (byte[])v["filter_comm"]);
        Assert.True(new TraceFilter().IsEmpty);
    }
}
