using System.CommandLine;
using System.Text;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Btf;
using Kscope.Formats.Btf;
using Kscope.Kernel.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope btf dump|c|find|diff|verify</c>: the kernel's own type information.</summary>
public static class BtfCommand
{
    public static Command Create(IConsole console)
    {
        var command = new Command("btf",
            "Read the kernel's type information (BTF): struct layouts as pahole shows them, C headers, searches, " +
            "differences between kernels, and checks of .NET interop structs against the kernel.\n" +
            "Types come from /sys/kernel/btf/vmlinux unless --file names a raw BTF file or an ELF object with a .BTF section " +
            "(--base: the vmlinux a module's split BTF builds on).\n\n" +
            "Examples:\n" +
            "  kscope btf dump kvm_run                      # layout with offsets, sizes, holes, cache lines\n" +
            "  kscope btf c task_struct > task.h            # C definitions, dependencies first\n" +
            "  kscope btf find 'kvm_*regs*'                 # names matching a glob, with kind and size\n" +
            "  kscope btf diff old/vmlinux new/vmlinux sk_buff\n" +
            "  kscope btf verify bin/MyInterop.dll          # every [KernelStruct] checked field by field");
        command.Subcommands.Add(Dump(console));
        command.Subcommands.Add(C(console));
        command.Subcommands.Add(Find(console));
        command.Subcommands.Add(Diff(console));
        command.Subcommands.Add(Verify(console));
        return command;
    }

    private static Option<string?> FileOption() => new("--file", "-f")
    {
        Description = "Read BTF from this file (raw BTF, e.g. /sys/kernel/btf/MODULE, or an ELF object with .BTF) instead of the running kernel.",
    };

    private static Option<string?> BaseOption() => new("--base", "-b")
    {
        Description = "Base BTF for a split BTF file (a module's BTF builds on /sys/kernel/btf/vmlinux).",
    };

    /// <summary>The BTF to read: files checked first (kscope's messages, not the runtime's), else the running kernel's.</summary>
    private static BtfTypes Open(string? file, string? baseFile)
    {
        foreach (string? path in (string?[])[baseFile, file])
        {
            if (path is not null)
            {
                FileChecks.Input("btf", path);
            }
        }
        return BtfSource.Open(file, baseFile);
    }

    private static BtfType Require(BtfTypes btf, string name) =>
        BtfSource.Find(btf, name) ?? throw new UsageException($"btf: no type named '{name}' (try: kscope btf find '*{name}*')");

    private static Command Dump(IConsole console)
    {
        var types = new Argument<string[]>("TYPE") { Description = "Struct, union, typedef or enum names ('struct x' picks the kind).", Arity = ArgumentArity.OneOrMore };
        var file = FileOption();
        var baseFile = BaseOption();
        var json = CommonOptions.Json();
        var command = new Command("dump",
            "Show the layout of types as pahole does: each member's offset and size, bitfield positions, holes, " +
            "trailing padding and cache-line boundaries.\n\n" +
            "Examples:\n" +
            "  kscope btf dump kvm_run\n" +
            "  kscope btf dump sk_buff --json\n" +
            "  kscope btf dump my_state --file my_mod.ko --base /sys/kernel/btf/vmlinux");
        command.Arguments.Add(types);
        command.Options.Add(file);
        command.Options.Add(baseFile);
        command.Options.Add(json);
        command.SetAction(parse => CommandRunner.Run(console, () =>
        {
            BtfTypes btf = Open(parse.GetValue(file), parse.GetValue(baseFile));
            var layouts = new List<BtfLayout>();
            var text = new StringBuilder();
            var writer = new BtfPaholeWriter(btf);
            foreach (string name in parse.GetValue(types) ?? [])
            {
                BtfType t = Require(btf, name);
                if (btf.ResolveType(t.Id).IsComposite)
                {
                    BtfLayout layout = BtfLayout.Compute(btf, t.Id);
                    layouts.Add(layout);
                    if (text.Length > 0)
                    {
                        text.Append('\n');
                    }
                    writer.Write(layout, text);
                }
                else if (!parse.GetValue(json))
                {
                    text.Append(new BtfCWriter(btf).Write([t.Id], header: false));
                }
            }
            console.Out.Write(parse.GetValue(json) ? BtfJson.Layouts(btf, layouts) + "\n" : text.ToString());
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command C(IConsole console)
    {
        var types = new Argument<string[]>("TYPE") { Description = "Types to define (with everything they need); none: every type.", Arity = ArgumentArity.ZeroOrMore };
        var file = FileOption();
        var baseFile = BaseOption();
        var command = new Command("c",
            "Write C definitions a compiler accepts, dependencies first (like 'bpftool btf dump file … format c'): " +
            "for the named types and their closure, or for every type (a vmlinux.h).\n\n" +
            "Examples:\n" +
            "  kscope btf c > vmlinux.h\n" +
            "  kscope btf c kvm_run kvm_regs > kvm.h");
        command.Arguments.Add(types);
        command.Options.Add(file);
        command.Options.Add(baseFile);
        command.SetAction(parse => CommandRunner.Run(console, () =>
        {
            BtfTypes btf = Open(parse.GetValue(file), parse.GetValue(baseFile));
            int[] roots = (parse.GetValue(types) ?? []).Select(n => Require(btf, n).Id).ToArray();
            // Streamed: a whole vmlinux.h (megabytes) is written as UTF-8 as it is produced, in 64 KiB writes to the real
            // stdout rather than through the auto-flushing Console.Out (not disposed: that would close the process's stdout).
            if (console is SystemConsole)
            {
                new BtfCWriter(btf).Write(Console.OpenStandardOutput(), roots);
            }
            else
            {
                new BtfCWriter(btf).Write(console.Out, roots);
                console.Out.Flush();
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Find(IConsole console)
    {
        var pattern = new Argument<string>("PATTERN") { Description = "A glob: * any run, ? one character, [abc] one of." };
        var kind = new Option<string?>("--kind", "-k") { Description = "Only this kind: struct, union, enum, typedef, func, int…" };
        var file = FileOption();
        var baseFile = BaseOption();
        var json = CommonOptions.Json();
        var command = new Command("find",
            "List types whose names match a glob, with kind and size. Exit code 1 when nothing matches.\n\n" +
            "Examples:\n" +
            "  kscope btf find 'kvm_*regs'\n" +
            "  kscope btf find '*bpf_attr*' --kind union --json");
        command.Arguments.Add(pattern);
        command.Options.Add(kind);
        command.Options.Add(file);
        command.Options.Add(baseFile);
        command.Options.Add(json);
        command.SetAction(parse => CommandRunner.Run(console, () =>
        {
            BtfKind? k = null;
            if (parse.GetValue(kind) is { } kindName)
            {
                k = Enum.GetValues<BtfKind>().Cast<BtfKind?>().FirstOrDefault(x => BtfFind.KindName(x!.Value) == kindName.ToLowerInvariant())
                    ?? throw new UsageException($"btf find: unknown kind '{kindName}' (struct, union, enum, enum64, typedef, func, int, float, ptr, array, fwd, var, datasec…)");
            }
            BtfTypes btf = Open(parse.GetValue(file), parse.GetValue(baseFile));
            IReadOnlyList<BtfFindResult> results = BtfFind.Find(btf, parse.GetValue(pattern)!, k);
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(BtfJson.Find(results));
            }
            else
            {
                var sb = new StringBuilder();
                foreach (BtfFindResult r in results)
                {
                    sb.Append($"{BtfFind.KindName(r.Kind),-10} {r.Name,-40} {(r.Size > 0 ? r.Size.ToString() : "-"),8}  [{r.Id}]\n");
                }
                console.Out.Write(sb.ToString());
            }
            return results.Count > 0 ? ExitCodes.Ok : ExitCodes.Warnings;
        }));
        return command;
    }

    private static Command Diff(IConsole console)
    {
        var a = new Argument<string>("A") { Description = "First BTF file (raw or ELF with .BTF)." };
        var b = new Argument<string>("B") { Description = "Second BTF file." };
        var types = new Argument<string[]>("TYPE") { Description = "Types to compare.", Arity = ArgumentArity.OneOrMore };
        var json = CommonOptions.Json();
        var command = new Command("diff",
            "Show what differs in the named types between two BTF files (two kernels, two architectures): size, alignment, " +
            "and each member's offset, size and type (anonymous members flattened). Exit code 1 when something differs.\n\n" +
            "Examples:\n" +
            "  kscope btf diff /boot/old.btf /sys/kernel/btf/vmlinux kvm_run task_struct");
        command.Arguments.Add(a);
        command.Arguments.Add(b);
        command.Arguments.Add(types);
        command.Options.Add(json);
        command.SetAction(parse => CommandRunner.Run(console, () =>
        {
            BtfTypes btfA = Open(parse.GetValue(a), null), btfB = Open(parse.GetValue(b), null);
            IReadOnlyList<BtfDifference> differences = BtfDiff.Compare(btfA, btfB, parse.GetValue(types) ?? []);
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(BtfJson.Diff(differences));
            }
            else if (differences.Count == 0)
            {
                console.Out.WriteLine("no differences");
            }
            else
            {
                foreach (BtfDifference d in differences)
                {
                    console.Out.WriteLine(d.ToString());
                }
            }
            return differences.Count == 0 ? ExitCodes.Ok : ExitCodes.Warnings;
        }));
        return command;
    }

    private static Command Verify(IConsole console)
    {
        var assembly = new Argument<string>("ASSEMBLY") { Description = "A .NET assembly (.dll) whose [KernelStruct] types to check." };
        var file = FileOption();
        var baseFile = BaseOption();
        var json = CommonOptions.Json();
        var command = new Command("verify",
            "Check every struct marked [KernelStruct(\"name\")] in a .NET assembly against BTF: size, and every field's offset and " +
            "size against the kernel member it mirrors ([KernelField] or the snake_case name). The assembly is read, not loaded. " +
            "Exit code 2 when a mirror is wrong.\n\n" +
            "Examples:\n" +
            "  kscope btf verify bin/Release/net10.0/MyKvm.dll\n" +
            "  kscope btf verify MyKvm.dll --file other-kernel.btf --json");
        command.Arguments.Add(assembly);
        command.Options.Add(file);
        command.Options.Add(baseFile);
        command.Options.Add(json);
        command.SetAction(parse => CommandRunner.Run(console, () =>
        {
            string path = parse.GetValue(assembly)!;
            FileChecks.Input("btf verify", path);
            BtfTypes btf = Open(parse.GetValue(file), parse.GetValue(baseFile));
            IReadOnlyList<KernelStructMismatch> mismatches;
            IReadOnlyList<ManagedStructLayout> checkedTypes;
            try
            {
                mismatches = new KernelStructVerifier(btf).VerifyAssembly(path, out checkedTypes);
            }
            catch (BadImageFormatException)
            {
                throw new CommandException($"btf verify: {path}: not a .NET assembly (no PE/CLI header)");
            }
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(BtfJson.Verify(checkedTypes, mismatches));
            }
            else
            {
                foreach (ManagedStructLayout t in checkedTypes)
                {
                    var own = mismatches.Where(m => m.TypeName == t.TypeName).ToList();
                    console.Out.WriteLine($"{(own.Count == 0 ? "[ OK ]" : "[FAIL]")} {t.TypeName} -> {t.KernelName}{(t.Prefix ? " (prefix)" : "")}, {t.Size} bytes, {t.Fields.Count} fields");
                    foreach (KernelStructMismatch m in own)
                    {
                        console.Out.WriteLine($"       {(m.Field is null ? "" : m.Field + ": ")}{m.Message}");
                    }
                }
                console.Out.WriteLine($"{checkedTypes.Count} types checked, {checkedTypes.Count(t => mismatches.All(m => m.TypeName != t.TypeName))} match, {mismatches.Select(m => m.TypeName).Distinct().Count()} wrong");
            }
            return mismatches.Count == 0 ? ExitCodes.Ok : ExitCodes.Failures;
        }));
        return command;
    }
}
