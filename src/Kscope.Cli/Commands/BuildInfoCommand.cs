using Kscope.Native;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Formats.Elf;
using Kscope.Formats.Go;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope buildinfo FILE</c>: a Go binary's version, main module, dependencies and build settings (<c>go version -m</c>).</summary>
public static class BuildInfoCommand
{
    /// <summary>The schema of <c>buildinfo --json</c> (docs/json.md, fields in docs/symbolize.md).</summary>
    public const string Schema = "kscope.buildinfo/v1";

    public static Command Create(IConsole console)
    {
        var command = new Command("buildinfo",
            "Print a Go binary's Go version, main module, dependencies and build settings, as 'go version -m' does (stripped binaries too).\n" +
            "Example: kscope buildinfo /usr/local/bin/server");
        var file = new Argument<string>("file") { Description = "A Go ELF binary." };
        Option<bool> json = CommonOptions.Json();
        command.Arguments.Add(file);
        command.Options.Add(json);
        command.SetAction(parse => CommandRunner.Run(console, () =>
        {
            string path = parse.GetValue(file)!;
            FileChecks.Input("buildinfo", path);
            FileChecks.Elf("buildinfo", path);
            GoBuildInfo info = GoBuildInfo.FromElf(ElfFile.Parse(InputFile.ReadAllBytes(path)))
                ?? throw new CommandException($"buildinfo: {path}: not a Go binary (no Go build info: no .go.buildinfo section or build info blob)");
            if (parse.GetValue(json))
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteString("schema", Schema);
                    w.WriteString("file", path);
                    w.WriteString("go_version", info.GoVersion);
                    w.WriteString("path", info.Path);
                    w.WriteString("main_module", info.MainModule);
                    w.WriteStartArray("dependencies");
                    foreach (string d in info.Dependencies)
                    {
                        w.WriteStringValue(d);
                    }
                    w.WriteEndArray();
                    w.WriteStartArray("settings"); // keys are Go's (-buildmode, CGO_ENABLED, vcs.revision): data, not JSON keys
                    foreach (var (k, v) in info.Settings)
                    {
                        w.WriteStartObject();
                        w.WriteString("key", k);
                        w.WriteString("value", v);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                console.Out.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
                return ExitCodes.Ok;
            }
            console.Out.Write($"{path}: {info.ToGoVersionM()}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
