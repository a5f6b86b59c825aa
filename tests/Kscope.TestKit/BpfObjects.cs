namespace Kscope.TestKit;

/// <summary>Compiles the C sources the loader tests use (bpf/examples, and Objects/ here) with clang -O2 -g -target bpf, once per run.</summary>
public static class BpfObjects
{
    private static readonly Dictionary<string, string> s_built = new();
    private static readonly Lock s_lock = new();

    public static string Example(string name) => Build(Path.Combine(Tools.RepoRoot, "bpf", "examples", name + ".bpf.c"));

    public static string Test(string name, params string[] defines) => Build(Path.Combine(Tools.RepoRoot, "tests", "Kscope.Kernel.Tests", "Bpf", "Objects", name + ".bpf.c"), defines);

    /// <summary>attach_all.bpf.c with its uprobe sections naming a copy of the test's uprobe target binary.</summary>
    public static string AttachAll() => Test("attach_all", $"-DUPROBE_BINARY=\"{UprobeTarget.SectionCopy()}\"");

    private static string Build(string source, params string[] defines)
    {
        lock (s_lock)
        {
            string key = source + string.Join(' ', defines);
            if (s_built.TryGetValue(key, out string? done))
            {
                return done;
            }
            string clang = Requires.Tool("clang", "clang");
            string dir = Path.Combine(Path.GetTempPath(), $"kscope-bpf-{Environment.ProcessId}");
            Directory.CreateDirectory(dir);
            string output = Path.Combine(dir, Path.GetFileNameWithoutExtension(source) + (defines.Length > 0 ? $"-{s_built.Count}" : "") + ".o");
            Tools.Check(clang, [.. defines, "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", Path.Combine(Tools.RepoRoot, "bpf", "include"), "-c", source, "-o", output]);
            s_built[key] = output;
            return output;
        }
    }
}
