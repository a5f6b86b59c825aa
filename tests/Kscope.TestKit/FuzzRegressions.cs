namespace Kscope.TestKit;

/// <summary>
/// The inputs under fuzz/regressions/&lt;target&gt;/ (crashes and hangs the fuzzer or issue 13 found, each fixed),
/// as theory data (target, file name). Each layer's test project replays its own targets through the same
/// <c>FuzzTarget.Run</c> contract AFL++ checks (fuzz/Kscope.Fuzz/Targets, linked into the test project).
/// </summary>
public static class FuzzRegressions
{
    public static string Root => Path.Combine(Tools.RepoRoot, "fuzz", "regressions");

    public static TheoryData<string, string> Inputs(IEnumerable<string> targets)
    {
        var data = new TheoryData<string, string>();
        foreach (string target in targets.Order(StringComparer.Ordinal))
        {
            string dir = Path.Combine(Root, target);
            if (!Directory.Exists(dir))
            {
                continue;
            }
            foreach (string file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
            {
                data.Add(target, Path.GetFileName(file));
            }
        }
        return data;
    }

    /// <summary>Runs one input with a generous deadline: a hang is a failure, not a stuck test run.</summary>
    public static void Replay(string target, string file, Action<byte[]> run)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(Root, target, file));
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                run(input);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, 16 << 20) { IsBackground = true };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(120)))
        {
            Assert.Fail($"{target}/{file}: did not finish within 120 s (a hang)");
        }
        if (failure is not null)
        {
            Assert.Fail($"{target}/{file}: {failure}");
        }
    }
}
