namespace Kscope.Kernel.Tests.Bpf;

/// <summary>Compiles the C sources the loader tests use (bpf/examples, and Objects/ here) with clang -O2 -g -target bpf, once per run.</summary>
internal static class BpfObjects
{
    private static readonly Dictionary<string, string> s_built = new();
    private static readonly Lock s_lock = new();

    public static string Example(string name) => Build(Path.Combine(Tools.RepoRoot, "bpf", "examples", name + ".bpf.c"));

    public static string Test(string name) => Build(Path.Combine(Tools.RepoRoot, "tests", "Kscope.Kernel.Tests", "Bpf", "Objects", name + ".bpf.c"));

    private static string Build(string source)
    {
        lock (s_lock)
        {
            if (s_built.TryGetValue(source, out string? done))
            {
                return done;
            }
            string clang = Requires.Tool("clang", "clang");
            string dir = Path.Combine(Path.GetTempPath(), $"kscope-bpf-{Environment.ProcessId}");
            Directory.CreateDirectory(dir);
            string output = Path.Combine(dir, Path.GetFileNameWithoutExtension(source) + ".o");
            Tools.Check(clang, "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", Path.Combine(Tools.RepoRoot, "bpf", "include"), "-c", source, "-o", output);
            s_built[source] = output;
            return output;
        }
    }
}
