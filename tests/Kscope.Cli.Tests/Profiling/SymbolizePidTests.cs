using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Symbols;
using Kscope.Formats.Go;

namespace Kscope.Cli.Tests.Profiling;

/// <summary><c>kscope symbolize --pid N ADDRESS…</c>: runtime addresses of live processes.</summary>
public class SymbolizePidTests
{
    private static (int Code, string Out) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console.OutText + console.ErrorText);
    }

    [Fact]
    public void SymbolizePid_LibcFunctionOfThisProcess_NamedWithItsLibrary()
    {
        // getpid's runtime address in this process: libc is PIE-mapped, so this tests maps -> file offset -> symbol.
        IntPtr libc = NativeLibrary.Load("libc.so.6");
        ulong address = (ulong)NativeLibrary.GetExport(libc, "getpid");
        var (code, output) = Run("symbolize", "--pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), $"0x{address:x}");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("getpid", output, StringComparison.Ordinal);
        Assert.Contains("libc.so.6]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void SymbolizePid_RunningGoProgram_FunctionAndLine()
    {
        GoFunction hot = BinarySymbolizer.Load(GoProgram.Exe).GoTable!.Functions().Single(f => f.Name == "main.hotInner");
        using var go = Process.Start(GoProgram.Exe, ["-for", "5s"]);
        try
        {
            Thread.Sleep(200);
            var (code, output) = Run("symbolize", "--pid", go.Id.ToString(CultureInfo.InvariantCulture), $"0x{hot.Entry + 5:x}", "--json");
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Contains("\"function\": \"main.hotInner\"", output, StringComparison.Ordinal);
            Assert.Contains("main.go", output, StringComparison.Ordinal);
            Assert.Contains("\"pid\": ", output, StringComparison.Ordinal);
        }
        finally
        {
            go.Kill();
            go.WaitForExit();
        }
    }

    [Fact]
    public void SymbolizePid_BadArguments_UsageErrors()
    {
        Assert.Equal(ExitCodes.Usage, Run("symbolize", "0x1234").Code);
        Assert.Equal(ExitCodes.Usage, Run("symbolize", "--pid", "2147483000", "0x1234").Code);
        Assert.Equal(ExitCodes.Usage, Run("symbolize", "--pid", "1", "zz").Code);
    }
}
