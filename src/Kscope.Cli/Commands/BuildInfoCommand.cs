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
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"open {path}: no such file", path);
            }
            GoBuildInfo info = GoBuildInfo.FromElf(ElfFile.Load(path))
                ?? throw new Kscope.Formats.MalformedDataException("Go buildinfo", 0, $"{path}: not a Go binary (no Go build info)");
            if (parse.GetValue(json))
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteString("file", path);
                    w.WriteString("goVersion", info.GoVersion);
                    w.WriteString("path", info.Path);
                    w.WriteString("mainModule", info.MainModule);
                    w.WriteStartArray("dependencies");
                    foreach (string d in info.Dependencies)
                    {
                        w.WriteStringValue(d);
                    }
                    w.WriteEndArray();
                    w.WriteStartObject("settings");
                    foreach (var (k, v) in info.Settings)
                    {
                        w.WriteString(k, v);
                    }
                    w.WriteEndObject();
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
