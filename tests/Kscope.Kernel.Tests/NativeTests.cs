using Kscope.Native;

namespace Kscope.Kernel.Tests;

[Trait("Category", "Kernel")]
public class NativeTests
{
    [Fact]
    public void Open_MissingFile_ThrowsENOENT()
    {
        var e = Assert.Throws<KernelException>(() => Posix.Open("/nonexistent/kscope", OpenFlags.O_RDONLY));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("(ENOENT)", e.Message);
    }

    [Fact]
    public void Uname_MatchesUnameTool()
    {
        string release = Tools.Check("uname", "-r").Trim();
        Assert.Equal(release, Posix.Uname().Release);
    }

    [Fact]
    public void OpenClose_Repeated_DoesNotLeakFds()
    {
        FdCounter.AssertNoGrowth(200, () =>
        {
            using SafeFd fd = Posix.Open("/proc/self/status", OpenFlags.O_RDONLY);
            Span<byte> buffer = stackalloc byte[64];
            Assert.True(Posix.Read(fd, buffer) > 0);
        });
    }
}
