using Kscope.Formats.Pprof;

namespace Kscope.Formats.Tests.Pprof;

public class ProfileReaderTests
{
    [Fact]
    public void Read_LargeGoCpuProfile_ResolvesEverything()
    {
        Profile p = ProfileReader.Read(File.ReadAllBytes(PprofTestData.Large));
        Assert.Equal(["samples/count", "cpu/nanoseconds"], p.SampleTypes.Select(t => t.ToString()));
        Assert.Equal(new SampleType("cpu", "nanoseconds"), p.PeriodType);
        Assert.Equal(10_000_000, p.Period);
        Assert.True(p.Samples.Count > 1000);
        Assert.All(p.Samples, s => Assert.Equal(2, s.Values.Length));
        // go tool pprof -top: "Total samples = 240.29s"
        Assert.Equal(240_290_000_000, p.Samples.Sum(s => s.Values[1]));
        Assert.Contains(p.Functions, f => f.Name == "time.Now");
        Assert.EndsWith("large", p.Mappings[0].File, StringComparison.Ordinal);
        Assert.Equal(1, p.DefaultSampleIndex);
    }

    [Fact]
    public void Read_NoSampleTypes_UsesPeriodTypeLikeGo()
    {
        Profile p = ProfileReader.Read(File.ReadAllBytes(PprofTestData.CppBench));
        Assert.Equal(["cpu/nanoseconds"], p.SampleTypes.Select(t => t.ToString()));
        // go tool pprof -top: "7.12s total"
        Assert.Equal(7_120_000_000, p.Samples.Sum(s => s.Values[0]));
        Assert.Contains(p.Mappings, m => m.File.EndsWith("cppbench_server_main", StringComparison.Ordinal));
    }

    [Fact]
    public void WriteThenRead_Large_RoundTrips()
    {
        Profile a = ProfileReader.Read(File.ReadAllBytes(PprofTestData.Large));
        a.Comments.Add("written by kscope");
        Profile b = ProfileReader.Read(ProfileWriter.WriteBytes(a));
        AssertSame(a, b);
    }

    [Fact]
    public void WriteThenRead_Labels_RoundTrip()
    {
        var f = new Function { Name = "main.work", SystemName = "main.work", FileName = "/src/main.go", StartLine = 10 };
        var m = new Mapping { MemoryStart = 0x400000, MemoryLimit = 0x500000, File = "/bin/prog", BuildId = "abcd", HasFunctions = true };
        var l = new Location { Mapping = m, Address = 0x401234, Lines = [new Line(f, 12, 3)] };
        var p = new Profile { Period = 1, PeriodType = new SampleType("cpu", "nanoseconds"), TimeNanos = 5, DurationNanos = 7, DropFrames = "runtime\\..*", DocUrl = "https://x" };
        p.SampleTypes.Add(new SampleType("samples", "count"));
        p.Functions.Add(f);
        p.Mappings.Add(m);
        p.Locations.Add(l);
        p.Samples.Add(new Sample { Locations = [l, l], Values = [3], Labels = [new Label("thread", "main"), new Label("bytes", null, 4096, "bytes")] });
        Profile q = ProfileReader.Read(ProfileWriter.WriteBytes(p));
        AssertSame(p, q);
        Assert.Equal(new Label("bytes", null, 4096, "bytes"), q.Samples[0].Labels[1]);
        Assert.Equal("runtime\\..*", q.DropFrames);
    }

    [Fact]
    public void Read_EveryPrefixOfSmallProfile_ParsesOrThrowsTyped()
    {
        byte[] raw = ProfileReader.Gunzip(File.ReadAllBytes(PprofTestData.CppBench));
        for (int n = 0; n < raw.Length; n++)
        {
            AssertParsesOrThrowsTyped(raw.AsSpan(0, n).ToArray());
        }
    }

    [Fact]
    public void Read_PrefixesOfLargeProfile_ParseOrThrowTyped()
    {
        byte[] raw = ProfileReader.Gunzip(File.ReadAllBytes(PprofTestData.Large));
        var rng = new Random(6);
        for (int i = 0; i < 40; i++)
        {
            AssertParsesOrThrowsTyped(raw.AsSpan(0, rng.Next(raw.Length)).ToArray());
        }
    }

    [Fact]
    public void Read_EveryPrefixOfGzip_ThrowsTyped()
    {
        byte[] gz = File.ReadAllBytes(PprofTestData.CppBench);
        for (int n = 2; n < gz.Length; n++)
        {
            Assert.Throws<MalformedDataException>(() => ProfileReader.Read(gz.AsSpan(0, n)));
        }
    }

    [Fact]
    public void Read_MutatedBytes_ParseOrThrowTyped()
    {
        byte[] raw = ProfileReader.Gunzip(File.ReadAllBytes(PprofTestData.CppBench));
        var rng = new Random(42);
        for (int i = 0; i < 3000; i++)
        {
            byte[] m = (byte[])raw.Clone();
            int flips = 1 + rng.Next(4);
            for (int k = 0; k < flips; k++)
            {
                m[rng.Next(m.Length)] = (byte)rng.Next(256);
            }
            AssertParsesOrThrowsTyped(m);
        }
    }

    [Theory]
    [InlineData("32 05 01", "length 5 exceeds")]             // sample: length past the end
    [InlineData("0b", "field 1: wire type 3")]
    [InlineData("a3 01", "unsupported wire type 3")]
    [InlineData("00", "invalid field number 0")]
    [InlineData("ff ff ff ff ff ff ff ff ff ff ff", "varint longer")]
    [InlineData("12 02 08 07 32 00", "unknown location id 7")] // sample -> location 7, string table [""]
    [InlineData("0a 02 08 05 32 00", "string index 5")]       // sample_type type=5
    [InlineData("22 02 08 00 32 00", "location id 0")]
    [InlineData("22 02 08 01 22 02 08 01 32 00", "duplicate location id 1")]
    [InlineData("32 01 41", "string_table[0] must be")]
    [InlineData("", "string table is empty")]
    public void Read_HostileInput_ThrowsWithReason(string hex, string reason)
    {
        byte[] data = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        var e = Assert.Throws<MalformedDataException>(() => ProfileReader.ReadUncompressed(data));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnpackedRepeatedAndUnknownFields_Accepted()
    {
        // sample { location_id: 1 (unpacked); value: 9 (unpacked); field 9 (unknown) } location { id: 1 } strings [""] field 20 (unknown)
        byte[] data = Convert.FromHexString("12060801100948012202080132 00 a2 01 01 00".Replace(" ", "", StringComparison.Ordinal));
        Profile p = ProfileReader.ReadUncompressed(data);
        Assert.Equal(9, p.Samples[0].Values[0]);
        Assert.Same(p.Locations[0], p.Samples[0].Locations[0]);
    }

    private static void AssertParsesOrThrowsTyped(byte[] data)
    {
        try
        {
            ProfileReader.ReadUncompressed(data);
        }
        catch (MalformedDataException)
        {
        }
    }

    internal static void AssertSame(Profile a, Profile b)
    {
        Assert.Equal(a.SampleTypes, b.SampleTypes);
        Assert.Equal(a.PeriodType, b.PeriodType);
        Assert.Equal(a.Period, b.Period);
        Assert.Equal(a.TimeNanos, b.TimeNanos);
        Assert.Equal(a.DurationNanos, b.DurationNanos);
        Assert.Equal(a.Comments, b.Comments);
        Assert.Equal(a.DefaultSampleType, b.DefaultSampleType);
        Assert.Equal(a.Functions.Count, b.Functions.Count);
        Assert.Equal(a.Locations.Count, b.Locations.Count);
        Assert.Equal(a.Mappings.Count, b.Mappings.Count);
        Assert.Equal(a.Samples.Count, b.Samples.Count);
        for (int i = 0; i < a.Functions.Count; i++)
        {
            Assert.Equal((a.Functions[i].Name, a.Functions[i].SystemName, a.Functions[i].FileName, a.Functions[i].StartLine),
                (b.Functions[i].Name, b.Functions[i].SystemName, b.Functions[i].FileName, b.Functions[i].StartLine));
        }
        for (int i = 0; i < a.Mappings.Count; i++)
        {
            Mapping x = a.Mappings[i], y = b.Mappings[i];
            Assert.Equal((x.MemoryStart, x.MemoryLimit, x.FileOffset, x.File, x.BuildId, x.HasFunctions, x.HasFilenames, x.HasLineNumbers, x.HasInlineFrames),
                (y.MemoryStart, y.MemoryLimit, y.FileOffset, y.File, y.BuildId, y.HasFunctions, y.HasFilenames, y.HasLineNumbers, y.HasInlineFrames));
        }
        for (int i = 0; i < a.Locations.Count; i++)
        {
            Location x = a.Locations[i], y = b.Locations[i];
            Assert.Equal(x.Address, y.Address);
            Assert.Equal(x.IsFolded, y.IsFolded);
            Assert.Equal(x.Mapping?.File, y.Mapping?.File);
            Assert.Equal(x.Lines.Select(l => (l.Function?.Name, l.Number, l.Column)), y.Lines.Select(l => (l.Function?.Name, l.Number, l.Column)));
        }
        for (int i = 0; i < a.Samples.Count; i++)
        {
            Assert.Equal(a.Samples[i].Values, b.Samples[i].Values);
            Assert.Equal(a.Samples[i].Labels, b.Samples[i].Labels);
            Assert.Equal(a.Samples[i].Locations.Select(l => l.Address), b.Samples[i].Locations.Select(l => l.Address));
        }
    }
}
