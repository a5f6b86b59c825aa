using Kscope.Cli;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests;

public class VersionCommandTests
{
    [Fact]
    public void Version_PrintsKernelRelease()
    {
        var console = new StringConsole();
        int code = Program.BuildRoot(console).Parse(["version"]).Invoke();
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains(Tools.Check("uname", "-r").Trim(), console.OutText);
    }
}
