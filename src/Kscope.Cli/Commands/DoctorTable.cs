using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Doctor;
using Kscope.Diagnostics.Output;

namespace Kscope.Cli.Commands;

/// <summary>
/// doctor's table: one block per section, one line per check, evidence and fix under warnings, failures and skips;
/// on a terminal long values wrap under themselves (TextTable), never cut.
/// </summary>
public static class DoctorTable
{
    public static void Write(IConsole console, IReadOnlyList<CheckResult> results, string target)
    {
        TextWriter o = console.Out;
        int idWidth = Math.Min(36, results.Select(r => r.Id.Length).DefaultIfEmpty(10).Max());
        int width = console.IsTerminal ? Math.Max(60, console.Width) : int.MaxValue;
        foreach (var section in results.GroupBy(r => r.Section).OrderBy(g => g.Key))
        {
            o.WriteLine(Ansi.Bold(console, section.Key.ToString()) + (section.Key == DoctorSection.Limits || section.Key == DoctorSection.Security ? Ansi.Dim(console, $" ({target})") : ""));
            foreach (CheckResult r in section)
            {
                string tag = r.Status switch
                {
                    CheckStatus.Ok => Ansi.Green(console, "ok  "),
                    CheckStatus.Warn => Ansi.Yellow(console, "warn"),
                    CheckStatus.Fail => Ansi.Red(console, "fail"),
                    _ => Ansi.Dim(console, "skip"),
                };
                // Wrapped with a plain tag of the same width, then the coloured tag put back on the first line.
                List<string> lines = TextTable.Wrap($"  xxxx  {r.Id.PadRight(idWidth)}  ", r.Value, width).ToList();
                lines[0] = $"  {tag}{lines[0][6..]}";
                lines.ForEach(o.WriteLine);
                if (r.Status != CheckStatus.Ok)
                {
                    string indent = new(' ', idWidth + 10);
                    foreach (string l in TextTable.Wrap(indent, r.Evidence, width))
                    {
                        o.WriteLine(Ansi.Dim(console, l));
                    }
                    if (r.Fix is not null)
                    {
                        foreach (string l in TextTable.Wrap(indent, "fix: " + r.Fix, width))
                        {
                            o.WriteLine(l);
                        }
                    }
                }
            }
            o.WriteLine();
        }
        int ok = results.Count(r => r.Status == CheckStatus.Ok), warn = results.Count(r => r.Status == CheckStatus.Warn);
        int fail = results.Count(r => r.Status == CheckStatus.Fail), skip = results.Count(r => r.Status == CheckStatus.Skip);
        o.WriteLine($"{results.Count} checks: {ok} ok, {warn} warn, {fail} fail, {skip} skipped. Details: kscope doctor --json; one check: --check ID.");
    }
}
