using System.CommandLine;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Bpf;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Asm;
using Kscope.Kernel.Bpf.Loader;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope bpf run|load|objdump|probe</c>: a small bpftool on kscope's own eBPF engine (docs/bpf.md).</summary>
public static class BpfCommand
{
    public static Command Create(IConsole console)
    {
        var command = new Command("bpf",
            "Load, run and inspect eBPF objects with kscope's own loader (no libbpf), and probe what the kernel supports.\n\n" +
            "Examples:\n" +
            "  kscope bpf run hello.bpf.o --for 5s --record event   # attach by section name, print records and maps\n" +
            "  kscope bpf load tool.bpf.o --pin /sys/fs/bpf/tool     # load every program like bpftool prog loadall\n" +
            "  kscope bpf objdump hello.bpf.o                        # maps, programs, CO-RE relocations, disassembly\n" +
            "  kscope bpf run /usr/sbin/execsnoop --record event      # the object a libbpf-tools executable embeds\n" +
            "  kscope bpf probe --json                               # program/map/attach types and helpers\n" +
            "Example objects: bpf/examples/*.bpf.o in kscope's source tree (paths relative to its root).");
        command.Subcommands.Add(Run(console));
        command.Subcommands.Add(Load(console));
        command.Subcommands.Add(Objdump(console));
        command.Subcommands.Add(Probe(console));
        return command;
    }

    private static Argument<string> ObjectArgument() => new("object")
    {
        Description = "An eBPF ELF object built with clang -O2 -g -target bpf, or an executable that embeds exactly one\n" +
            "(a libbpf skeleton tool such as BCC's libbpf-tools /usr/sbin/execsnoop): its object is used.",
    };

    private static Command Run(IConsole console)
    {
        var obj = ObjectArgument();
        var programs = new Option<string[]>("--program", "-p") { Description = "Load and attach only this program (function name). Repeatable." };
        var record = new Option<string?>("--record", "-r") { Description = "Decode ring/perf buffer records with this BTF struct of the object (else hex)." };
        var duration = new Option<string?>("--for", "-d") { Description = "Run this long (e.g. 10s, 2m, 500ms); default until Ctrl-C." };
        var json = CommonOptions.Json();
        var command = new Command("run",
            "Load OBJECT, attach every program by its section name (tracepoint/CAT/NAME, raw_tracepoint/NAME, uprobe/BINARY:SYMBOL,\n" +
            "kprobe/FUNC…), print every ring buffer and perf buffer record, and at exit the object's hash/array maps and .data/.bss.\n" +
            "Ends at --for or on Ctrl-C/SIGTERM: it detaches, drains the buffers and dumps the maps either way (then exits 130, or 143).\n\n" +
            "Example (from the root of kscope's source tree, which has bpf/examples/):\n  sudo kscope bpf run bpf/examples/hello.bpf.o --for 3s --record event");
        command.Arguments.Add(obj);
        command.Options.Add(programs);
        command.Options.Add(record);
        command.Options.Add(duration);
        command.Options.Add(json);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(console, token => Guard(console, async () =>
        {
            TimeSpan? d = parse.GetValue(duration) is { } text ? ParseDuration(text) : null;
            FileChecks.Input("bpf run", parse.GetValue(obj)!);
            string[] only = parse.GetValue(programs) ?? [];
            var options = new BpfRun.Options(parse.GetValue(obj)!, only.Length > 0 ? only.ToHashSet() : null, parse.GetValue(record), d);
            int code = await new BpfRun(console.Out, parse.GetValue(json)).RunAsync(options, token).ConfigureAwait(false);
            return code == 130 ? ExitCodes.Interrupted : ExitCodes.Ok;
        }), ct));
        return command;
    }

    private static Command Load(IConsole console)
    {
        var obj = ObjectArgument();
        var pin = new Option<string?>("--pin") { Description = "Pin each program as DIR/<program name> (bpffs is mounted on /sys/fs/bpf if needed)." };
        var json = CommonOptions.Json();
        var command = new Command("load",
            "Load every program of OBJECT without attaching (as 'bpftool prog loadall') and print name, type, translated and JIT-ed sizes.\n\n" +
            "Example (from the root of kscope's source tree):\n  sudo kscope bpf load bpf/examples/hello.bpf.o --json");
        command.Arguments.Add(obj);
        command.Options.Add(pin);
        command.Options.Add(json);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(console, _ => Guard(console, () =>
        {
            FileChecks.Input("bpf load", parse.GetValue(obj)!);
            var result = BpfLoad.Run(parse.GetValue(obj)!, parse.GetValue(pin));
            if (parse.GetValue(json))
            {
                WriteJson(console, s => BpfLoad.WriteJson(s, result));
            }
            else
            {
                BpfLoad.WriteText(console.Out, result);
            }
            return Task.FromResult(ExitCodes.Ok);
        }), ct));
        return command;
    }

    private static Command Objdump(IConsole console)
    {
        var obj = ObjectArgument();
        var json = CommonOptions.Json();
        var command = new Command("objdump",
            "Show OBJECT's sections, maps, global variables, programs, relocations (CO-RE ones spelled out) and disassembly. Needs no privileges.\n\n" +
            "Example (from the root of kscope's source tree):\n  kscope bpf objdump bpf/examples/hello.bpf.o");
        command.Arguments.Add(obj);
        command.Options.Add(json);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(console, _ => Guard(console, () =>
        {
            FileChecks.Input("bpf objdump", parse.GetValue(obj)!);
            if (parse.GetValue(json))
            {
                WriteJson(console, s => BpfObjdump.WriteJson(s, parse.GetValue(obj)!));
            }
            else
            {
                BpfObjdump.WriteText(console.Out, parse.GetValue(obj)!);
            }
            return Task.FromResult(ExitCodes.Ok);
        }), ct));
        return command;
    }

    private static Command Probe(IConsole console)
    {
        var json = CommonOptions.Json();
        var noHelpers = new Option<bool>("--no-helpers") { Description = "Skip the (slower) per-program-type helper probes." };
        var command = new Command("probe",
            "Which eBPF program types, map types, attach types and helpers this kernel has: present, absent, or unknown\n" +
            "(could not test, e.g. not permitted). Probes ask the kernel; they never guess from the version.\n\n" +
            "Example:\n  sudo kscope bpf probe --no-helpers");
        command.Options.Add(json);
        command.Options.Add(noHelpers);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(console, _ => Guard(console, () =>
        {
            BpfProbe.Report report = BpfProbe.Run(!parse.GetValue(noHelpers));
            if (parse.GetValue(json))
            {
                WriteJson(console, s => BpfProbe.WriteJson(s, report));
            }
            else
            {
                BpfProbe.WriteText(console.Out, report);
            }
            return Task.FromResult(ExitCodes.Ok);
        }), ct));
        return command;
    }

    /// <summary>Turns the loader's own anticipated failures into one-line errors (the rest go to CommandRunner).</summary>
    private static async Task<int> Guard(IConsole console, Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception e) when (e is CoreRelocationException or KeyNotFoundException or NotSupportedException or AssemblyException or FormatException or InvalidOperationException)
        {
            ErrorLine.Write(console, e.Message);
            return ExitCodes.Error;
        }
    }

    private static void WriteJson(IConsole console, Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    internal static TimeSpan ParseDuration(string text) =>
        Kscope.Diagnostics.Trace.Durations.TryParse(text, out TimeSpan value) && value > TimeSpan.Zero ? value
        : throw new UsageException($"bpf run: bad duration '{text.Trim()}' (use e.g. 10s, 2m, 500ms)");
}
