namespace Kscope.Kernel.Tests.Native;

using Kscope.Native;
using Kscope.Native.Bpf;

/// <summary>The typed syscall wrappers, against independent answers (coreutils stat, /proc) where there is one.</summary>
[Trait("Category", "Kernel")]
public class SyscallTests
{
    [Fact]
    public void Statx_Root_MatchesCoreutilsStat()
    {
        string stat = Requires.Tool("stat", "coreutils");
        string[] theirs = Tools.Check(stat, "-c", "%i %h %u %g %f", "/").Trim().Split(' ');
        Statx st = Syscall.Statx("/", StatxMask.BasicStats);
        Assert.Equal(StatxMask.BasicStats, (StatxMask)st.Mask & StatxMask.BasicStats);
        Assert.Equal(ulong.Parse(theirs[0]), st.Ino);
        Assert.Equal(uint.Parse(theirs[1]), st.NLink);
        Assert.Equal(uint.Parse(theirs[2]), st.Uid);
        Assert.Equal(uint.Parse(theirs[3]), st.Gid);
        Assert.Equal(Convert.ToUInt32(theirs[4], 16), st.Mode);
        Assert.Equal(FileIds.Inode("/"), st.Ino);
    }

    [Fact]
    public void Statx_Missing_ThrowsENOENTNamingThePath()
    {
        var e = Assert.Throws<KernelException>(() => Syscall.Statx("/kscope/no/such/path", StatxMask.BasicStats));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.StartsWith("statx /kscope/no/such/path: ", e.Message);
    }

    [Fact]
    public void PidfdOpen_Self_IsAPidfd()
    {
        using SafeFd fd = Syscall.PidfdOpen(Posix.GetPid());
        Assert.Equal("anon_inode:[pidfd]", new FileInfo($"/proc/self/fd/{fd.Value}").LinkTarget);
        Assert.Contains($"Pid:\t{Posix.GetPid()}", File.ReadAllText($"/proc/self/fdinfo/{fd.Value}"));
    }

    [Fact]
    public void PidfdOpen_NoSuchProcess_ThrowsESRCH()
    {
        var e = Assert.Throws<KernelException>(() => Syscall.PidfdOpen(int.MaxValue));
        Assert.Equal(Errno.ESRCH, e.Errno);
    }

    [Fact]
    public void MembarrierQuery_ReportsTheGlobalCommand()
    {
        MembarrierCommands supported = Syscall.MembarrierQuery();
        Assert.True(supported.HasFlag(MembarrierCommands.Global) || supported.HasFlag(MembarrierCommands.PrivateExpedited), $"mask {supported}");
    }

    [Fact]
    public void GetRandom_FillsTheBuffer()
    {
        var a = new byte[32];
        var b = new byte[32];
        Assert.Equal(32, Syscall.GetRandom(a, GetRandomFlags.None));
        Assert.Equal(32, Syscall.GetRandom(b, GetRandomFlags.NonBlock));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Clone3WithoutArguments_IsRefusedWithEINVAL() =>
        Assert.Equal(Errno.EINVAL, Syscall.Clone3WithoutArguments());

    [Fact]
    public void SchedGetScheduler_ThisThread_IsSchedOtherUnlessChanged()
    {
        int policy = Syscall.SchedGetScheduler(Syscall.GetTid());
        string chrt = Requires.Tool("chrt", "util-linux");
        string theirs = Tools.Check(chrt, "-p", Syscall.GetTid().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(theirs.Contains("SCHED_OTHER", StringComparison.Ordinal), (policy & ~0x40000000) == 0);
    }

    [Fact]
    public void EpollWaitTimeSpan_ReadySource_ReportedLikeWait()
    {
        using var epoll = new Epoll();
        using SafeFd source = EventFd.Create();
        epoll.Add(source, Epoll.In, 9);
        Span<EpollEvent> events = stackalloc EpollEvent[2];
        Assert.Equal(0, epoll.Wait(events, TimeSpan.Zero));
        EventFd.Signal(source);
        Assert.Equal(1, epoll.Wait(events, TimeSpan.FromSeconds(30)));
        Assert.Equal(9UL, events[0].Data);
    }

    [Fact]
    public unsafe void TryProgLoad_Refused_ReturnsTheErrnoWithoutThrowing()
    {
        Requires.Root();
        ulong* insns = stackalloc ulong[1];
        insns[0] = 0xb7; // r0 = 0, then no exit
        byte* license = stackalloc byte[4] { (byte)'G', (byte)'P', (byte)'L', 0 };
        var load = new ProgLoadAttr { ProgType = 1, InsnCnt = 1, Insns = (ulong)insns, License = (ulong)license };
        Assert.Equal(Errno.EINVAL, Bpf.TryProgLoad(ref load, out SafeFd? fd));
        Assert.Null(fd);
    }
}
