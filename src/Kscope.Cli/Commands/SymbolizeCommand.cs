using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Symbols;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope symbolize FILE ADDRESS…</c> or <c>--pid N ADDRESS…</c>: function, file:line and inlined frames for addresses of an ELF or Go binary, or of a live process.</summary>
public static class SymbolizeCommand
{
    /// <summary>The schema of <c>symbolize --json</c> (docs/json.md, fields in docs/symbolize.md).</summary>
    public const string Schema = "kscope.symbolize/v1";

    public static Command Create(IConsole console)
    {
        var command = new Command("symbolize",
            "Name the function, file:line and inlined frames at addresses of an ELF binary: Go binaries through their pclntab (stripped ones too), others through their symbol tables.\n" +
            "Addresses are link-time (as in the binary), hex with or without 0x; with --pid, runtime addresses of that live process\n" +
            "(its mappings, binaries through /proc/PID/root, JIT perf map, kernel addresses through /proc/kallsyms).\n" +
            "Examples:\n" +
            "  kscope symbolize ./server 0x4a1f20 4a2000\n" +
            "  kscope symbolize --pid 1234 0x55d0c1a2b3c4 0x7f3a12345678\n" +
            "Exit code 0 when every address is in a function; 1 when some are not (they print '??', and stderr says\n" +
            "\"N of M addresses are in no function\"); 3 when the file cannot be read or is malformed.");
        var operands = new Argument<string[]>("file-and-addresses") { Description = "FILE ADDRESS… (or only ADDRESS… with --pid).", Arity = ArgumentArity.OneOrMore };
        Option<int?> pid = CommonOptions.Pid("Symbolize runtime addresses of this live process instead of a file's link-time addresses.");
        Option<bool> json = CommonOptions.Json();
        command.Arguments.Add(operands);
        command.Options.Add(pid);
        command.Options.Add(json);
        command.SetAction(parse => CommandRunner.Run(console, () =>
        {
            string[] args = parse.GetValue(operands)!;
            int? target = parse.GetValue(pid);
            if (target is null && args.Length < 2)
            {
                throw new UsageException("give FILE ADDRESS… or --pid N ADDRESS…");
            }
            string path = target is int p ? $"pid {p}" : args[0];
            var pcs = new List<ulong>();
            foreach (string a in target is null ? args[1..] : args)
            {
                string hex = a.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? a[2..] : a;
                if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong pc))
                {
                    throw new UsageException($"'{a}' is not a hex address");
                }
                pcs.Add(pc);
            }
            Func<ulong, (IReadOnlyList<SymbolizedFrame> Frames, string? Module)> lookup;
            bool isGo = false;
            if (target is int live)
            {
                ProcessSymbolizer process;
                try
                {
                    process = ProcessSymbolizer.Attach(live);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"--pid {live}: {e.Message}");
                }
                lookup = process.Symbolize;
            }
            else
            {
                FileChecks.Input("symbolize", path);
                FileChecks.Elf("symbolize", path);
                var symbolizer = BinarySymbolizer.Load(path);
                isGo = symbolizer.IsGo;
                lookup = pc => (symbolizer.Symbolize(pc), path);
            }
            int unknown = 0;
            if (parse.GetValue(json))
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteString("schema", Schema);
                    if (target is int jp)
                    {
                        w.WriteNumber("pid", jp);
                    }
                    else
                    {
                        w.WriteString("file", path);
                        w.WriteBoolean("go", isGo);
                    }
                    w.WriteStartArray("addresses");
                    foreach (ulong pc in pcs)
                    {
                        var (frames, module) = lookup(pc);
                        unknown += frames.Count == 0 ? 1 : 0;
                        w.WriteStartObject();
                        w.WriteString("address", $"0x{pc:x}");
                        if (target is not null)
                        {
                            w.WriteString("module", module);
                        }
                        w.WriteStartArray("frames");
                        foreach (SymbolizedFrame f in frames)
                        {
                            w.WriteStartObject();
                            w.WriteString("function", f.Function);
                            if (f.File is not null)
                            {
                                w.WriteString("file", f.File);
                                w.WriteNumber("line", f.Line);
                            }
                            w.WriteNumber("offset", f.Offset);
                            w.WriteBoolean("inlined", f.Inlined);
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                console.Out.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
            }
            else
            {
                foreach (ulong pc in pcs)
                {
                    var (frames, module) = lookup(pc);
                    string where = target is not null && module is not null ? $" [{module}]" : "";
                    if (frames.Count == 0)
                    {
                        unknown++;
                        console.Out.WriteLine($"0x{pc:x} ??{where}");
                        continue;
                    }
                    console.Out.WriteLine($"0x{pc:x} {frames[0]}{where}");
                    foreach (SymbolizedFrame f in frames.Skip(1))
                    {
                        console.Out.WriteLine($"    {(frames[0].Inlined ? "inlined into " : "")}{f}");
                    }
                }
            }
            if (unknown > 0)
            {
                // The answers above are complete; say on stderr how many were not found, and why that can be.
                console.Error.WriteLine($"[WARN] {unknown} of {pcs.Count} addresses are in no function " +
                    (target is null
                        ? $"of {path} (not code, or code without a symbol: a stripped C binary has only .dynsym); exit code {ExitCodes.Warnings}"
                        : $"of process {target} (unmapped, or in a mapping without symbols); exit code {ExitCodes.Warnings}"));
                return ExitCodes.Warnings;
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
