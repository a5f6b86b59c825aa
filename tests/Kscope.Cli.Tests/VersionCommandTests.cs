using Kscope.Cli;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests;

public class VersionCommandTests
{
    [Fact]
    public void Version_PrintsKernelRelease()
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, ["version"]);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains(Tools.Check("uname", "-r").Trim(), console.OutText);
    }
}
