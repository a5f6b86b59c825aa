using System.Text.Json;
using Kscope.Cli;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests.Kvm;

public class KvmCommandTests
{
    private static string Guest(string name) => Path.Combine(Tools.RepoRoot, "guests", name);

    private static (int Code, StringConsole Console) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console);
    }

    private static void RequireKvm()
    {
        Requires.Root();
        Requires.Kernel(KernelProbe.Kvm); // creates /dev/kvm when the kernel registered the device but the node is missing
    }

    [Fact]
    public void Check_OnThisHost_AllSelfTestsPass()
    {
        RequireKvm();
        (int code, StringConsole console) = Run("kvm", "check");
        Assert.True(code == ExitCodes.Ok, console.OutText + console.ErrorText);
        Assert.Contains("API version 12", console.OutText);
        Assert.Contains("all 5 self-tests passed", console.OutText);
    }

    [Fact]
    public void Check_Json_MatchesDocumentedSchema()
    {
        RequireKvm();
        (int code, StringConsole console) = Run("kvm", "check", "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using JsonDocument doc = JsonDocument.Parse(console.OutText);
        JsonElement root = doc.RootElement;
        Assert.True(root.GetProperty("usable").GetBoolean());
        Assert.True(root.GetProperty("passed").GetBoolean());
        Assert.Equal(12, root.GetProperty("api_version").GetInt32());
        Assert.True(root.GetProperty("vcpu_mmap_size").GetInt32() >= 2352);
        Assert.Contains(root.GetProperty("capabilities").EnumerateArray(), c => c.GetProperty("name").GetString() == "KVM_CAP_IMMEDIATE_EXIT" && c.GetProperty("value").GetInt32() > 0);
        JsonElement[] tests = root.GetProperty("self_tests").EnumerateArray().ToArray();
        Assert.Equal(5, tests.Length);
        Assert.All(tests, t => Assert.True(t.GetProperty("passed").GetBoolean(), t.GetProperty("detail").GetString()));
        Assert.Contains(tests, t => t.GetProperty("name").GetString()!.Contains("long mode", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_HelloRealMode_PrintsHelloFromTheGuest()
    {
        RequireKvm();
        (int code, StringConsole console) = Run("kvm", "run", Guest("hello.bin"));
        Assert.True(code == ExitCodes.Ok, console.ErrorText);
        Assert.Equal("hello from the guest\n", console.OutText);
        Assert.Contains("guest stopped: HLT after 22 exits", console.ErrorText);
        Assert.Contains("IO 21, HLT 1", console.ErrorText);
    }

    [Fact]
    public void Run_HelloLongMode_PrintsHelloFromTheGuest()
    {
        RequireKvm();
        (int code, StringConsole console) = Run("kvm", "run", Guest("hello64.bin"), "--mode", "long", "--mem", "4M", "--load", "0x1000");
        Assert.True(code == ExitCodes.Ok, console.ErrorText);
        Assert.Equal("hello from the guest (64-bit)\n", console.OutText);
        Assert.Contains("long mode", console.ErrorText);
    }

    [Fact]
    public void Run_TripleFault_ReportsShutdownWithFailureCode()
    {
        RequireKvm();
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, [0x0f, 0x0b]); // ud2 with no IDT
            (int code, StringConsole console) = Run("kvm", "run", file, "--mode", "long");
            Assert.Equal(ExitCodes.Failures, code);
            Assert.Contains("SHUTDOWN (triple fault)", console.ErrorText);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Run_MaxExitsReached_Warns()
    {
        RequireKvm();
        (int code, StringConsole console) = Run("kvm", "run", Guest("hello.bin"), "--max-exits", "5");
        Assert.Equal(ExitCodes.Warnings, code);
        Assert.Equal("hello", console.OutText);
        Assert.Contains("--max-exits reached", console.ErrorText);
    }

    [Theory]
    [InlineData("--mem", "lots")]
    [InlineData("--load", "0xzz")]
    [InlineData("--max-exits", "0")]
    [InlineData("--load", "0x200000")]
    public void Run_BadArguments_AreUsageErrors(string option, string value)
    {
        RequireKvm();
        (int code, StringConsole console) = Run("kvm", "run", Guest("hello.bin"), option, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("[ERROR] kvm run:", console.ErrorText);
    }

    [Fact]
    public void Guests_RebuiltFromSource_MatchCommittedBinaries()
    {
        Requires.Tool("as", "binutils");
        Requires.Tool("ld", "binutils");
        Requires.Tool("objcopy", "binutils");
        string make = Requires.Tool("make", "make");
        string dir = Directory.CreateTempSubdirectory("kscope-guests-").FullName;
        try
        {
            foreach (string f in new[] { "Makefile", "hello.S", "hello64.S" })
            {
                File.Copy(Guest(f), Path.Combine(dir, f));
            }
            var (exit, _, err) = Tools.RunIn(dir, make, "-s");
            Assert.True(exit == 0, err);
            foreach (string bin in new[] { "hello.bin", "hello64.bin" })
            {
                Assert.Equal(File.ReadAllBytes(Guest(bin)), File.ReadAllBytes(Path.Combine(dir, bin)));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
