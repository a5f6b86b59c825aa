using System.Diagnostics;
using SharpFuzz;

namespace Kscope.Fuzz;

/// <summary>
/// kscope's fuzz driver. <c>fuzz/run</c> is the way in; this binary has four verbs:
/// <list type="bullet">
/// <item><c>list</c>: the targets;</item>
/// <item><c>afl TARGET</c>: the AFL++ persistent loop (SharpFuzz's fork server), input on stdin;</item>
/// <item><c>replay TARGET PATH…</c>: every file (or every file of a folder) through the same contract, once each;</item>
/// <item><c>seeds OUT REPO</c>: derive each target's seed corpus from real inputs on this machine.</item>
/// </list>
/// </summary>
public static class Program
{
    public static IEnumerable<FuzzTarget> Targets => FormatsTargets.All.Concat(KernelTargets.All).Concat(DiagnosticsTargets.All);

    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: Kscope.Fuzz list | afl TARGET | replay TARGET PATH... | seeds OUTDIR REPOROOT");
            return 2;
        }
        switch (args[0])
        {
            case "list":
                foreach (FuzzTarget t in Targets)
                {
                    Console.WriteLine($"{t.Name,-14} {t.Layer,-12} {t.Description}");
                }
                return 0;
            case "afl" when args.Length == 2:
                return Afl(Find(args[1]));
            case "replay" when args.Length >= 3:
                return Replay(Find(args[1]), args[2..]);
            case "seeds" when args.Length == 3:
                return Seeds.Write(args[1], args[2]);
            default:
                Console.Error.WriteLine($"unknown or incomplete command '{string.Join(' ', args)}'");
                return 2;
        }
    }

    private static FuzzTarget Find(string name) =>
        Targets.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no fuzz target '{name}' (Kscope.Fuzz list)");

    private static int Afl(FuzzTarget target)
    {
        byte[] buffer = new byte[1 << 20];
        Fuzzer.Run(stream =>
        {
            int length = 0;
            int n;
            while (length < buffer.Length && (n = stream.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += n;
            }
            target.Run(buffer.AsSpan(0, length));
        });
        return 0;
    }

    private static int Replay(FuzzTarget target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p]).Order(StringComparer.Ordinal).ToList();
        int failed = 0;
        long slowest = 0;
        foreach (string f in files)
        {
            byte[] input = File.ReadAllBytes(f);
            var watch = Stopwatch.StartNew();
            try
            {
                target.Run(input);
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"FAIL {f}: {e.GetType().Name}: {e.Message}");
                Console.WriteLine(e.StackTrace);
            }
            slowest = Math.Max(slowest, watch.ElapsedMilliseconds);
        }
        Console.WriteLine($"{target.Name}: {files.Count} inputs, {failed} failed, slowest {slowest} ms");
        return failed == 0 ? 0 : 1;
    }
}
