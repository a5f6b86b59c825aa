using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Symbols;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope symbolize FILE ADDRESS…</c>: function, file:line and inlined frames for addresses of an ELF or Go binary.</summary>
public static class SymbolizeCommand
{
    public static Command Create(IConsole console)
    {
        var command = new Command("symbolize",
            "Name the function, file:line and inlined frames at addresses of an ELF binary: Go binaries through their pclntab (stripped ones too), others through their symbol tables.\n" +
            "Addresses are link-time (as in the binary), hex with or without 0x.\n" +
            "Example: kscope symbolize ./server 0x4a1f20 4a2000");
        var file = new Argument<string>("file") { Description = "The ELF binary." };
        var addresses = new Argument<string[]>("address") { Description = "Hex addresses.", Arity = ArgumentArity.OneOrMore };
        Option<bool> json = CommonOptions.Json();
        command.Arguments.Add(file);
        command.Arguments.Add(addresses);
        command.Options.Add(json);
        command.SetAction(parse => CommandRunner.Run(console, () =>
        {
            string path = parse.GetValue(file)!;
            var pcs = new List<ulong>();
            foreach (string a in parse.GetValue(addresses)!)
            {
                string hex = a.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? a[2..] : a;
                if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong pc))
                {
                    throw new UsageException($"'{a}' is not a hex address");
                }
                pcs.Add(pc);
            }
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"open {path}: no such file", path);
            }
            var symbolizer = BinarySymbolizer.Load(path);
            bool anyUnknown = false;
            if (parse.GetValue(json))
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteString("file", path);
                    w.WriteBoolean("go", symbolizer.IsGo);
                    w.WriteStartArray("addresses");
                    foreach (ulong pc in pcs)
                    {
                        var frames = symbolizer.Symbolize(pc);
                        anyUnknown |= frames.Count == 0;
                        w.WriteStartObject();
                        w.WriteString("address", $"0x{pc:x}");
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
                    var frames = symbolizer.Symbolize(pc);
                    if (frames.Count == 0)
                    {
                        anyUnknown = true;
                        console.Out.WriteLine($"0x{pc:x} ??");
                        continue;
                    }
                    console.Out.WriteLine($"0x{pc:x} {frames[0]}");
                    foreach (SymbolizedFrame f in frames.Skip(1))
                    {
                        console.Out.WriteLine($"    {(frames[0].Inlined ? "inlined into " : "")}{f}");
                    }
                }
            }
            return anyUnknown ? ExitCodes.Warnings : ExitCodes.Ok;
        }));
        return command;
    }
}
