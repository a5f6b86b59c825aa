using Kscope.Formats.Cgroups;

namespace Kscope.Formats.Tests.Procfs;

public class CgroupParserTests
{
    [Theory]
    [InlineData("max 100000\n", null, 100000UL)]
    [InlineData("20000 100000\n", 20000UL, 100000UL)]
    [InlineData("150000 50000", 150000UL, 50000UL)]
    [InlineData("max\n", null, 100000UL)]
    public void CpuMax_V2_Parses(string text, ulong? quota, ulong period)
    {
        CpuMax m = CpuMax.Parse(text);
        Assert.Equal(quota, m.QuotaMicroseconds);
        Assert.Equal(period, m.PeriodMicroseconds);
    }

    [Fact]
    public void CpuMax_Quota_InCpus()
    {
        Assert.Equal(0.2, CpuMax.Parse("20000 100000").Cpus);
        Assert.Equal(3.0, CpuMax.Parse("150000 50000").Cpus);
        Assert.Null(CpuMax.Parse("max 100000").Cpus);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("abc 100000")]
    [InlineData("20000 0")]
    [InlineData("20000 100000 7")]
    [InlineData("-5 100000")]
    [InlineData("99999999999999999999999 100000")]
    [InlineData("20000 100000\n30000 100000\n")]
    public void CpuMax_Malformed_Throws(string text) =>
        Assert.Throws<MalformedDataException>(() => CpuMax.Parse(text, "cpu.max"));

    [Theory]
    [InlineData("-1\n", "100000\n", null)]
    [InlineData("20000\n", "100000\n", 0.2)]
    [InlineData("250000\n", "100000\n", 2.5)]
    public void CpuMax_V1_FromCfsFiles(string quota, string period, double? cpus) =>
        Assert.Equal(cpus, CpuMax.FromV1(quota, period).Cpus);

    [Theory]
    [InlineData("-2", "100000")]
    [InlineData("0", "100000")]
    [InlineData("20000", "0")]
    [InlineData("x", "100000")]
    [InlineData("20000", "-1")]
    public void CpuMax_V1Malformed_Throws(string quota, string period) =>
        Assert.Throws<MalformedDataException>(() => CpuMax.FromV1(quota, period));

    [Fact]
    public void FlatKeyed_V1AndV2CpuStat()
    {
        IReadOnlyDictionary<string, ulong> v1 = FlatKeyed.Parse(ProcfsSamples.CpuStatV1, "cpu.stat");
        Assert.Equal(120UL, v1["nr_periods"]);
        Assert.Equal(96UL, v1["nr_throttled"]);
        Assert.Equal(3912345678UL, v1["throttled_time"]);
        IReadOnlyDictionary<string, ulong> v2 = FlatKeyed.Parse(ProcfsSamples.CpuStatV2, "cpu.stat");
        Assert.Equal(123456UL, v2["throttled_usec"]);
        Assert.Equal(0UL, v2["core_sched.force_idle_usec"]);
    }

    [Theory]
    [InlineData("nr_periods\n", 1)]
    [InlineData("nr_periods 1\nnr_throttled x\n", 2)]
    [InlineData("a 1\na 2\n", 2)]
    [InlineData("a 1 2\n", 1)]
    [InlineData("a -1\n", 1)]
    [InlineData("a 18446744073709551616\n", 1)]
    public void FlatKeyed_Malformed_ThrowsWithLine(string text, int line) =>
        Assert.Equal(line, Assert.Throws<MalformedDataException>(() => FlatKeyed.Parse(text, "cpu.stat")).Line);

    [Theory]
    [InlineData("0-3,8,10-11\n", new[] { 0, 1, 2, 3, 8, 10, 11 })]
    [InlineData("0\n", new[] { 0 })]
    [InlineData("\n", new int[0])]
    [InlineData("3,1,1-2", new[] { 1, 2, 3 })]
    public void CpuList_Parses(string text, int[] cpus) => Assert.Equal(cpus, CpuList.Parse(text));

    [Theory]
    [InlineData("3-1")]
    [InlineData("0-")]
    [InlineData("a")]
    [InlineData("0,,1")]
    [InlineData("0-99999999")]
    [InlineData("-1")]
    public void CpuList_Malformed_Throws(string text) => Assert.Throws<MalformedDataException>(() => CpuList.Parse(text));

    [Fact]
    public void CpuList_Format_RoundTrips() => Assert.Equal("0-3,8,10-11", CpuList.Format(CpuList.Parse("10-11,0-3,8")));

    [Fact]
    public void Pressure_SomeAndFull()
    {
        Pressure p = Pressure.Parse(ProcfsSamples.Pressure);
        Assert.Equal(41.34, p.Some.Avg10);
        Assert.Equal(66539864UL, p.Some.TotalMicroseconds);
        Assert.NotNull(p.Full);
        Assert.Equal(0.0, p.Full!.Avg300);
        Assert.Null(Pressure.Parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").Full);
    }

    [Theory]
    [InlineData("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")]
    [InlineData("some avg10=0.00 avg60=0.00 total=0\n")]
    [InlineData("some avg10=101.00 avg60=0.00 avg300=0.00 total=0\n")]
    [InlineData("some avg11=0.00 avg60=0.00 avg300=0.00 total=0\n")]
    [InlineData("some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n")]
    [InlineData("none avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")]
    public void Pressure_Malformed_Throws(string text) => Assert.Throws<MalformedDataException>(() => Pressure.Parse(text));

    [Fact]
    public void CgroupValue_MaxAndNumbers()
    {
        Assert.Null(CgroupValue.Limit("max\n", "pids.max"));
        Assert.Equal(512UL, CgroupValue.Limit("512\n", "pids.max"));
        Assert.Equal(9223372036854771712UL, CgroupValue.Number("9223372036854771712\n", "memory.limit_in_bytes"));
        Assert.Throws<MalformedDataException>(() => CgroupValue.Limit("unlimited\n", "pids.max"));
        Assert.Throws<MalformedDataException>(() => CgroupValue.Number("", "memory.current"));
    }
}
