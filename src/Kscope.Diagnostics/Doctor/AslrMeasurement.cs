using System.Numerics;
using Kscope.Formats.Procfs;

namespace Kscope.Diagnostics.Doctor;

/// <summary>
/// Measures address-space randomisation instead of trusting the sysctl: starts several short-lived
/// children at once (each is <c>cat /proc/self/maps</c>, so it reports its own fresh layout with no race),
/// and counts the address bits that differ between them for the stack, mmap base (the dynamic loader),
/// heap (brk, as its distance from the executable's end) and executable (PIE). With n samples a truly random bit stays constant with probability
/// 2^-(n-1), so the count is a tight lower bound of the entropy.
/// </summary>
public static class AslrMeasurement
{
    public sealed record Result(int Samples, IReadOnlyDictionary<string, int?> BitsSeen, IReadOnlyDictionary<string, ulong> FirstBase);

    public static Result Measure(int samples = 10, string catPath = "/bin/cat")
    {
        // All children are started before any is waited for: they run together, and the measurement
        // costs one child's lifetime, not ten.
        var running = new Task<ChildProcess.Output>[samples];
        for (int i = 0; i < samples; i++)
        {
            running[i] = ChildProcess.Start(catPath, ["/proc/self/maps"]);
        }
        var layouts = new List<ProcMapsEntry>[samples];
        for (int i = 0; i < samples; i++)
        {
            layouts[i] = [.. ProcMapsEntry.Parse(running[i].GetAwaiter().GetResult().StandardOutput, $"{catPath} /proc/self/maps (child {i + 1} of {samples})")];
        }

        var bits = new Dictionary<string, int?>(StringComparer.Ordinal);
        var first = new Dictionary<string, ulong>(StringComparer.Ordinal);
        string exe = Path.GetFullPath(ResolveLink(catPath));
        foreach (var (region, pick) in Regions(exe))
        {
            ulong?[] bases = layouts.Select(pick).ToArray();
            if (bases.Any(b => b is null))
            {
                bits[region] = null;
                continue;
            }
            ulong varying = 0;
            foreach (ulong? b in bases)
            {
                varying |= b!.Value ^ bases[0]!.Value;
            }
            bits[region] = BitOperations.PopCount(varying);
            first[region] = bases[0]!.Value;
        }
        return new Result(samples, bits, first);
    }

    private static IEnumerable<(string, Func<List<ProcMapsEntry>, ulong?>)> Regions(string exe)
    {
        yield return ("stack", m => m.FirstOrDefault(e => e.Path == "[stack]")?.End);
        yield return ("mmap", m => m.FirstOrDefault(e => Path.GetFileName(e.Path).StartsWith("ld-linux", StringComparison.Ordinal) || Path.GetFileName(e.Path).StartsWith("ld-", StringComparison.Ordinal))?.Start);
        // brk starts a random distance after the executable's end: measure that distance, not the PIE base again.
        yield return ("heap", m => m.FirstOrDefault(e => e.Path == "[heap]")?.Start - m.Where(e => IsExe(e, exe)).Select(e => (ulong?)e.End).Max());
        yield return ("exe", m => m.FirstOrDefault(e => IsExe(e, exe))?.Start);
        yield return ("vdso", m => m.FirstOrDefault(e => e.Path == "[vdso]")?.Start);
    }

    private static bool IsExe(ProcMapsEntry e, string exe) => e.Path == exe || Path.GetFileName(e.Path) == Path.GetFileName(exe);

    private static string ResolveLink(string path)
    {
        try
        {
            return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        }
        catch (IOException)
        {
            return path;
        }
    }
}
