using System.Text;
using Kscope.Diagnostics.Symbols;

namespace Kscope.Fuzz;

/// <summary>Targets for the parsers in Kscope.Diagnostics. Also compiled into Kscope.Cli.Tests (the Diagnostics layer's tests live there).</summary>
public static class DiagnosticsTargets
{
    public const string Layer = "Diagnostics";

    public static IEnumerable<FuzzTarget> All =>
    [
        new("kallsyms", Layer, "/proc/kallsyms text, then address lookups", Kallsyms),
    ];

    private static long Kallsyms(ReadOnlySpan<byte> input)
    {
        KernelSymbols k = KernelSymbols.Parse(Encoding.UTF8.GetString(input), "kallsyms");
        _ = k.Resolve(0xffffffff81000000);
        _ = k.Resolve(ulong.MaxValue);
        return input.Length;
    }
}
