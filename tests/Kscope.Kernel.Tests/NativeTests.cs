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
}
