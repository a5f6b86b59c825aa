using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kscope.Cli.Tests.Cli;

namespace Kscope.Cli.Tests.Diagnose;

/// <summary>
/// What the diagnose tests on running processes share: a python process that prints "ready" and then takes its
/// orders on stdin, a `kscope diagnose --pid` whose window the test waits for before it gives them, and the
/// finding of a kind in the JSON document.
/// </summary>
internal static class DiagnoseProbe
{
    /// <summary>The window: 4 s on the host; in a TCG guest the process's own work after the window opened takes seconds more.</summary>
    public static string Window { get; } = Guest.Emulated ? "20s" : "4s";

    /// <summary>/bin/sh -c WRAPPER SCRIPT (the wrapper runs python with "$0"), stdin and stdout redirected, once it printed "ready".</summary>
    public static Process StartReady(string wrapper, string script, bool stdin = true)
    {
        var psi = new ProcessStartInfo("/bin/sh", ["-c", wrapper, script]) { RedirectStandardOutput = true, RedirectStandardInput = stdin, UseShellExecute = false };
        Process p = Process.Start(psi)!;
        string? line = p.StandardOutput.ReadLine();
        Assert.True(line == "ready", $"the process did not get ready: '{line}'");
        return p;
    }

    /// <summary>
    /// `kscope diagnose --pid PID --for WINDOW --json` into a report directory, returned once its stderr says the
    /// window opened (every source started): what the process does before that is not the window's.
    /// </summary>
    public static KscopeProcess StartWindow(int pid, TempDirectory dir)
    {
        KscopeProcess k = KscopeProcess.Start(["diagnose", "--pid", pid.ToString(CultureInfo.InvariantCulture), "--for", Window, "--out", dir["report"], "--json"]);
        Poll.Until(() => k.Err.Contains("window open at ", StringComparison.Ordinal) || k.HasExited, "kscope's window opened", TimeSpan.FromMinutes(2));
        return k;
    }

    public static JsonElement Find(JsonDocument doc, string kind, string detail)
    {
        JsonElement f = doc.RootElement.GetProperty("findings").EnumerateArray().FirstOrDefault(x => x.GetProperty("kind").GetString() == kind);
        Assert.True(f.ValueKind == JsonValueKind.Object, $"no {kind} finding: {detail}");
        return f;
    }

    public static bool SourceStarted(JsonDocument doc, string name) =>
        doc.RootElement.GetProperty("sources").EnumerateArray().Any(s => s.GetProperty("name").GetString() == name && s.GetProperty("status").GetString() == "started");
}
