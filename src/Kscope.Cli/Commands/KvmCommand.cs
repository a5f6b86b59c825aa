using System.CommandLine;
using System.Globalization;
using System.Text;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Kvm;
using Kscope.Kernel.Kvm;
using Kscope.Native;
using Kscope.Native.Kvm;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope kvm check|run</c>: is KVM usable here (with an ABI self-test), and a tiny VMM for flat binaries.</summary>
public static class KvmCommand
{
    public static Command Create(IConsole console)
    {
        var command = new Command("kvm",
            "Check this host's KVM with a self-test of kscope's binding, or run a flat-binary guest.\n" +
            "Examples:\n" +
            "  kscope kvm check\n" +
            "  kscope kvm check --json\n" +
            "  kscope kvm run guests/hello.bin\n" +
            "  kscope kvm run guests/hello64.bin --mode long --mem 4M --load 0x1000\n" +
            "Example guests: guests/*.bin in kscope's source tree (paths relative to its root).");
        command.Subcommands.Add(Check(console));
        command.Subcommands.Add(Run(console));
        return command;
    }

    private static Command Check(IConsole console)
    {
        var json = CommonOptions.Json();
        var command = new Command("check",
            "Is KVM usable here, and why not: API version, capabilities, vCPU mmap size, then self-tests that run real guests\n" +
            "(real-mode OUT+HLT, 64-bit long mode with kscope's page tables, MMIO, triple fault, vCPU kick). Each reports pass\n" +
            "or the exact failure (ioctl and errno, or the exit seen). Exit code 0 when all pass, 2 when one fails.\n" +
            "Example: kscope kvm check --json | jq '.self_tests[] | select(.passed | not)'");
        command.Options.Add(json);
        command.SetAction(parse => CommandRunner.Run(console, () => CheckHandler(console, parse.GetValue(json))));
        return command;
    }

    private static int CheckHandler(IConsole console, bool json)
    {
        KvmCheckReport report;
        try
        {
            report = KvmCheck.Run();
        }
        catch (KernelException e) when (json)
        {
            (string backend, bool nested) = KvmCheck.Backend();
            WriteJson(console, new KvmCheckReport(false, e.Message, backend, nested, 0, 0, 0, [], []));
            return CommandRunner.Classify(e) ?? ExitCodes.Error;
        }
        if (json)
        {
            WriteJson(console, report);
        }
        else
        {
            WriteTable(console, report);
        }
        return report.AllPassed ? ExitCodes.Ok : ExitCodes.Failures;
    }

    private static void WriteJson(IConsole console, KvmCheckReport report)
    {
        using var buffer = new MemoryStream();
        KvmCheckJson.Write(buffer, report);
        console.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteTable(IConsole console, KvmCheckReport r)
    {
        TextWriter o = console.Out;
        o.WriteLine($"KVM            /dev/kvm usable, API version {r.ApiVersion}");
        o.WriteLine($"backend        {r.Backend}{(r.Nested ? " (nested: this host is itself a guest)" : "")}");
        o.WriteLine($"vCPU mmap      {r.VcpuMmapSize} bytes (struct kvm_run is 2352)");
        o.WriteLine($"CPUID          {r.CpuidLeaves} supported leaves");
        o.WriteLine("capabilities");
        foreach (KvmCapabilityValue c in r.Capabilities)
        {
            o.WriteLine($"  {c.Name,-32} {(c.Value < 0 ? "error" : c.Value.ToString(CultureInfo.InvariantCulture))}");
        }
        o.WriteLine("self-tests");
        foreach (KvmSelfTest t in r.SelfTests)
        {
            string status = t.Passed ? Ansi.Green(console, "PASS") : Ansi.Red(console, "FAIL");
            o.WriteLine($"  [{status}] {t.Name,-42} {t.Elapsed.TotalMilliseconds,7:0.0} ms  {t.Detail}");
        }
        int failed = r.SelfTests.Count(t => !t.Passed);
        o.WriteLine(failed == 0 ? $"all {r.SelfTests.Count} self-tests passed" : $"{failed} of {r.SelfTests.Count} self-tests FAILED");
    }

    private static Command Run(IConsole console)
    {
        var file = new Argument<string>("file") { Description = "A flat binary (raw machine code, no headers), e.g. guests/hello.bin." };
        var mode = new Option<string>("--mode") { Description = "CPU mode at entry: real (16-bit, segments 0) or long (64-bit, identity-mapped first 1 GiB).", DefaultValueFactory = _ => "real" };
        mode.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } m && m is not ("real" or "long"))
            {
                r.AddError($"--mode '{m}': give real or long");
            }
        });
        var mem = new Option<string>("--mem") { Description = "Guest RAM at physical 0 (K, M or G suffix).", DefaultValueFactory = _ => "2M" };
        var load = new Option<string>("--load") { Description = "Guest-physical load address (hex 0x… or decimal).", DefaultValueFactory = _ => "0x1000" };
        var entry = new Option<string?>("--entry") { Description = "Entry address (default: the load address)." };
        var maxExits = new Option<long>("--max-exits") { Description = "Stop after this many VM exits.", DefaultValueFactory = _ => 1_000_000 };
        var command = new Command("run",
            "Run a flat-binary guest on one vCPU. Bytes it writes to port 0x3f8 (COM1) or 0xe9 (debug port) go to stdout;\n" +
            "exit statistics go to stderr at the end. Real mode starts with every segment register 0, so a guest linked\n" +
            "at its load address runs as linked. Exit code 0 when the guest halts (HLT), 1 when --max-exits ran out,\n" +
            "2 on SHUTDOWN (triple fault), FAIL_ENTRY, INTERNAL_ERROR, SYSTEM_EVENT or an unhandled exit, 130 on Ctrl-C.\n" +
            "Examples (from the root of kscope's source tree, which has guests/):\n" +
            "  kscope kvm run guests/hello.bin\n" +
            "  kscope kvm run guests/hello64.bin --mode long --max-exits 100");
        command.Arguments.Add(file);
        command.Options.Add(mode);
        command.Options.Add(mem);
        command.Options.Add(load);
        command.Options.Add(entry);
        command.Options.Add(maxExits);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(console, token => Task.FromResult(RunHandler(console,
            parse.GetValue(file)!, parse.GetValue(mode) == "long" ? GuestMode.Long : GuestMode.Real,
            ParseSize(parse.GetValue(mem)!, "--mem"), ParseAddress(parse.GetValue(load)!, "--load"),
            parse.GetValue(entry) is string e ? ParseAddress(e, "--entry") : null, parse.GetValue(maxExits), token)), ct));
        return command;
    }

    private static int RunHandler(IConsole console, string file, GuestMode mode, ulong memory, ulong load, ulong? entry, long maxExits, CancellationToken ct)
    {
        if (maxExits <= 0)
        {
            throw new UsageException("kvm run: --max-exits must be positive");
        }
        FileChecks.Input("kvm run", file);
        byte[] image = InputFile.ReadAllBytes(file, (long)Math.Min(memory, InputFile.DefaultMaxBytes));
        using KvmSystem kvm = KvmSystem.Open();
        FlatGuest guest;
        try
        {
            guest = FlatGuest.Create(kvm, image, mode, memory, load, entry);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new UsageException($"kvm run: {e.Message.Split(" (Parameter", 2)[0]}");
        }
        using (guest)
        {
            GuestRunner runner = guest.CreateRunner();
            runner.MaxExits = maxExits;
            bool lastNewline = true;
            runner.ConsoleOutput = b =>
            {
                console.Out.Write(Encoding.Latin1.GetString(b));
                lastNewline = b.Length > 0 && b[^1] == (byte)'\n' || b.Length == 0 && lastNewline;
            };
            GuestRunResult r = runner.Run(ct);
            console.Out.Flush();
            TextWriter e = console.Error;
            if (!lastNewline && console.IsTerminal)
            {
                console.Out.WriteLine();
            }
            e.WriteLine($"guest stopped: {Describe(r)} after {r.TotalExits} exits in {r.Elapsed.TotalMilliseconds:0.0} ms ({mode.ToString().ToLowerInvariant()} mode, rip 0x{r.FinalRip:x})");
            e.WriteLine("exits: " + string.Join(", ", r.ExitCounts.OrderByDescending(kv => kv.Value).Select(kv => $"{VcpuExit.Name(kv.Key)} {kv.Value}")) +
                (r.Interrupts > 0 ? $", EINTR {r.Interrupts}" : "") + $"; console {r.ConsoleBytes} bytes");
            return r.Stop switch
            {
                GuestStop.Halted => ExitCodes.Ok,
                GuestStop.MaxExits => ExitCodes.Warnings,
                GuestStop.Cancelled => ExitCodes.Interrupted,
                _ => ExitCodes.Failures,
            };
        }
    }

    private static string Describe(GuestRunResult r) => r.Stop switch
    {
        GuestStop.Halted => "HLT",
        GuestStop.MaxExits => "--max-exits reached",
        GuestStop.Cancelled => "interrupted",
        GuestStop.Shutdown => "SHUTDOWN (triple fault)",
        _ => r.LastExit.ToString(),
    };

    /// <summary>"2M", "64K", "1G", "4096".</summary>
    internal static ulong ParseSize(string text, string option)
    {
        string t = text.Trim();
        ulong multiplier = 1;
        if (t.Length > 0 && char.ToUpperInvariant(t[^1]) is 'K' or 'M' or 'G')
        {
            multiplier = char.ToUpperInvariant(t[^1]) switch { 'K' => 1UL << 10, 'M' => 1UL << 20, _ => 1UL << 30 };
            t = t[..^1];
        }
        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n == 0 || n > (64UL << 30) / multiplier)
        {
            throw new UsageException($"kvm run: {option} '{text}' is not a size like 2M, 64K or 1G");
        }
        return n * multiplier;
    }

    /// <summary>"0x1000" or "4096".</summary>
    internal static ulong ParseAddress(string text, string option)
    {
        string t = text.Trim();
        bool ok = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v)
            : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok ? v : throw new UsageException($"kvm run: {option} '{text}' is not an address like 0x1000");
    }
}
