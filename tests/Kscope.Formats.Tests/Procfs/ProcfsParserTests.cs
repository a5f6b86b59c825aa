using Kscope.Formats.Procfs;

namespace Kscope.Formats.Tests.Procfs;

public class ProcfsParserTests
{
    [Fact]
    public void ProcStatus_Sample_DecodesTypedFields()
    {
        ProcStatus s = ProcStatus.Parse(ProcfsSamples.Status, "status");
        Assert.Equal("cat", s.Name);
        Assert.Equal(6950, s.Pid);
        Assert.Equal(6946, s.PPid);
        Assert.Equal(0x1fffeffffffUL, s.CapEff);
        Assert.Equal([0u, 0u, 0u, 0u], s.Uids);
        Assert.Equal(0, s.Seccomp);
        Assert.Equal(0, s.NoNewPrivs);
        Assert.Equal(1724UL * 1024, s.VmRssBytes);
        Assert.Equal("0-1", s.CpusAllowedList);
        Assert.Equal("", s.Get("Groups"));
    }

    [Theory]
    [InlineData("Name:\tx\nno colon here\n", 2)]
    [InlineData("Name:\tx\nPid:\tabc\n", 2)]
    [InlineData("Name:\tx\nPid:\t99999999999999999999999\n", 2)]
    [InlineData("Name:\tx\nCapEff:\t1fffeffffffffffffff\n", 2)]
    [InlineData("Name:\tx\nVmRSS:\t18446744073709551615 kB\n", 2)]
    [InlineData("Name:\tx\nVmRSS:\t12 MB\n", 2)]
    [InlineData("Name:\tx\nUid:\t0\t0\n", 2)]
    public void ProcStatus_Malformed_ThrowsWithLine(string text, int line)
    {
        var e = Assert.Throws<MalformedDataException>(() =>
        {
            ProcStatus s = ProcStatus.Parse(text, "status");
            _ = s.Pid + (long)s.CapEff + (long)(s.VmRssBytes ?? 0) + s.Uids.Count;
        });
        Assert.Equal(line, e.Line);
        Assert.Equal("status", e.Source);
    }

    [Fact]
    public void ProcStat_CommWithSpacesAndParens_SplitsAtLastParen()
    {
        ProcStat s = ProcStat.Parse("42 (a (b) c) S 1 42 42 0 -1 4194304 0 0 0 0 7 3 0 0 20 0 4 0 999 0 0\n");
        Assert.Equal(42, s.Pid);
        Assert.Equal("a (b) c", s.Comm);
        Assert.Equal('S', s.State);
        Assert.Equal(1, s.PPid);
        Assert.Equal(7UL, s.UTime);
        Assert.Equal(3UL, s.STime);
        Assert.Equal(4, s.NumThreads);
        Assert.Equal(999UL, s.StartTime);
    }

    [Fact]
    public void ProcStat_Sample_KeepsUnsignedMaxAndProcessor()
    {
        ProcStat s = ProcStat.Parse(ProcfsSamples.Stat);
        Assert.Equal(7730, s.Pid);
        Assert.Equal(-1L, s.Field(25) == -1 ? -1 : s.Field(25)); // rsslim = RLIM_INFINITY keeps its bits
        Assert.Equal(0, s.Processor);
    }

    [Theory]
    [InlineData("")]
    [InlineData("42 cat R 1")]
    [InlineData("x (cat) R 1")]
    [InlineData("42 (cat)")]
    [InlineData("42 (cat) R 1 zz")]
    [InlineData("42 (cat) R 1 184467440737095516150")]
    public void ProcStat_Malformed_Throws(string text) =>
        Assert.Throws<MalformedDataException>(() => ProcStat.Parse(text));

    [Fact]
    public void ProcCgroup_Hybrid_ParsesV1AndUnified()
    {
        IReadOnlyList<ProcCgroupEntry> e = ProcCgroupEntry.Parse(ProcfsSamples.Cgroup);
        Assert.Equal(10, e.Count);
        Assert.Equal(["name=systemd"], e[0].Controllers);
        Assert.Equal("/process_api/678e3ad6", e[5].Path);
        Assert.Equal("/kscope test", e[8].Path);
        Assert.True(e[9].IsUnified);
        Assert.Equal("/", e[9].Path);
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("0::/\n1:cpu\n", 2)]
    [InlineData("x:cpu:/\n", 1)]
    [InlineData("-3:cpu:/\n", 1)]
    [InlineData("1:cpu:relative\n", 1)]
    public void ProcCgroup_Malformed_ThrowsWithLine(string text, int line) =>
        Assert.Equal(line, Assert.Throws<MalformedDataException>(() => ProcCgroupEntry.Parse(text, "cgroup")).Line);

    [Fact]
    public void MountInfo_Sample_UnescapesAndSplitsOptionalFields()
    {
        IReadOnlyList<MountInfoEntry> m = MountInfoEntry.Parse(ProcfsSamples.MountInfo);
        Assert.Equal(7, m.Count);
        Assert.Equal("cgroup2", m[5].FileSystemType);
        Assert.Equal("/sys/fs/cgroup/unified", m[5].MountPoint);
        Assert.Equal(["shared:4", "master:1"], m[4].OptionalFields);
        Assert.Equal("rw,name=systemd", m[4].SuperOptions);
        Assert.Equal(254u, m[1].Major);
        Assert.Equal("/sub dir", m[6].Root);
        Assert.Equal("/mnt/with space\\x", m[6].MountPoint);
        Assert.Equal("my\tsrc", m[6].MountSource);
    }

    [Theory]
    [InlineData("22 27 0:21 / /proc rw,relatime proc proc rw")]
    [InlineData("22 27 021 / /proc rw,relatime - proc proc rw")]
    [InlineData("22 27 0:21 /\\04 /proc rw - proc proc rw")]
    [InlineData("22 27 0:21 /\\999 /proc rw - proc proc rw")]
    [InlineData("22 27 0:99999999999 / /proc rw - proc proc rw")]
    [InlineData("a 27 0:21 / /proc rw - proc proc rw")]
    public void MountInfo_Malformed_Throws(string line) =>
        Assert.Equal(1, Assert.Throws<MalformedDataException>(() => MountInfoEntry.Parse(line)).Line);

    [Fact]
    public void Maps_Sample_ParsesPathsWithSpacesAndAnonymous()
    {
        IReadOnlyList<ProcMapsEntry> m = ProcMapsEntry.Parse(ProcfsSamples.Maps);
        Assert.Equal(6, m.Count);
        Assert.Equal(0x564c1b05c000UL, m[0].Start);
        Assert.True(m[1].IsExecutable);
        Assert.Equal(0x2000UL, m[1].Offset);
        Assert.Equal("[heap]", m[2].Path);
        Assert.Equal("", m[3].Path);
        Assert.Equal("/tmp/a file (deleted)", m[4].Path);
        Assert.Equal(247629UL, m[0].Inode);
    }

    [Theory]
    [InlineData("564c1b05c000 r--p 00000000 fe:00 1 /x")]
    [InlineData("zz-564c1b05e000 r--p 00000000 fe:00 1 /x")]
    [InlineData("2000-1000 r--p 00000000 fe:00 1 /x")]
    [InlineData("1000-2000 r-p 00000000 fe:00 1 /x")]
    [InlineData("1000-2000 r--p 00000000 fe00 1 /x")]
    [InlineData("1000-2000 r--p 00000000 fe:00")]
    [InlineData("1000-12345678901234567 r--p 00000000 fe:00 1")]
    public void Maps_Malformed_Throws(string line) =>
        Assert.Throws<MalformedDataException>(() => ProcMapsEntry.Parse(line));

    [Fact]
    public void Limits_Sample_UnlimitedAndUnits()
    {
        IReadOnlyList<ProcLimit> l = ProcLimit.Parse(ProcfsSamples.Limits);
        Assert.Equal(5, l.Count);
        Assert.Equal(ProcLimit.Unlimited, l[0].Soft);
        Assert.Equal(8388608UL, l[1].Soft);
        Assert.Equal(ProcLimit.Unlimited, l[1].Hard);
        Assert.Equal("Max open files", l[2].Name);
        Assert.Equal("files", l[2].Units);
        Assert.Equal("", l[4].Units);
    }

    [Theory]
    [InlineData("Max open files            20000                20000                files\n")]
    [InlineData("Limit                     Soft Limit           Hard Limit           Units\nMax open files            lots                 20000                files\n")]
    [InlineData("Limit                     Soft Limit           Hard Limit           Units\nshort\n")]
    [InlineData("Limit                     Soft Limit           Hard Limit           Units\n")]
    public void Limits_Malformed_Throws(string text) =>
        Assert.Throws<MalformedDataException>(() => ProcLimit.Parse(text));

    [Fact]
    public void SchedStat_Sample_RunWaitAndSlices()
    {
        ProcSchedStat s = ProcSchedStat.Parse("2210391017 45162834 1839\n");
        Assert.Equal(2210391017UL, s.RunNs);
        Assert.Equal(45162834UL, s.WaitNs);
        Assert.Equal(1839UL, s.Timeslices);
    }

    [Fact]
    public void SchedStat_OwnTask_Parses()
    {
        ProcSchedStat s = ProcSchedStat.Parse(File.ReadAllText("/proc/thread-self/schedstat"), "/proc/thread-self/schedstat");
        Assert.True(s.Timeslices > 0 || s.RunNs == 0, $"{s}"); // schedstats off prints 0 0 0
    }

    [Theory]
    [InlineData("")]
    [InlineData("1 2\n")]
    [InlineData("1 2 3 4\n")]
    [InlineData("1 2 3\n4 5 6\n")]
    [InlineData("1 -2 3\n")]
    [InlineData("1 2 99999999999999999999\n")]
    public void SchedStat_Malformed_ThrowsWithLine(string text)
    {
        MalformedDataException e = Assert.Throws<MalformedDataException>(() => ProcSchedStat.Parse(text, "schedstat"));
        Assert.Contains("schedstat", e.Message);
    }

    [Fact]
    public void NulSeparated_CmdlineAndEnviron()
    {
        Assert.Equal(["/bin/sleep", "10", ""], NulSeparated.Split("/bin/sleep\u000010\u0000\u0000"u8));
        IReadOnlyDictionary<string, string> env = NulSeparated.Environment("PATH=/bin\0GOMAXPROCS=4\0A=b=c\0PATH=/other\0junk\0"u8);
        Assert.Equal("/bin", env["PATH"]);
        Assert.Equal("4", env["GOMAXPROCS"]);
        Assert.Equal("b=c", env["A"]);
        Assert.Equal("", env["junk"]);
    }

    [Fact]
    public void KernelConfig_Sample_ValuesAndNotSet()
    {
        KernelConfig c = KernelConfig.Parse(ProcfsSamples.Config);
        Assert.Equal("y", c["BPF_SYSCALL"]);
        Assert.Equal("y", c["CONFIG_BPF_JIT"]);
        Assert.Equal("n", c["KPROBES"]);
        Assert.Equal("m", c["EXT4_FS"]);
        Assert.Equal("64", c["NR_CPUS"]);
        Assert.Equal("gcc (Debian 12.2.0-14) 12.2.0", c["CC_VERSION_TEXT"]);
        Assert.Null(c["UPROBES"]);
    }

    [Theory]
    [InlineData("CONFIG_X=y\nBPF=y\n", 2)]
    [InlineData("CONFIG_=y\n", 1)]
    [InlineData("CONFIG_A B=y\n", 1)]
    [InlineData("CONFIG_S=\"unterminated\n", 1)]
    public void KernelConfig_Malformed_ThrowsWithLine(string text, int line) =>
        Assert.Equal(line, Assert.Throws<MalformedDataException>(() => KernelConfig.Parse(text)).Line);

    [Fact]
    public void CpuInfo_Flags_FirstCpu()
    {
        IReadOnlySet<string> f = CpuInfo.Flags("processor\t: 0\nflags\t\t: fpu smep smap umip pku\n\nprocessor\t: 1\nflags\t\t: fpu\n");
        Assert.Contains("smep", f);
        Assert.Contains("pku", f);
        Assert.Throws<MalformedDataException>(() => CpuInfo.Flags("processor 0\n"));
    }
}
