namespace Kscope.Kernel.Tests.Bpf;

/// <summary>A tiny C program with a non-inlined function to put uprobes on; built once per test run with gcc.</summary>
internal static class UprobeTarget
{
    private static readonly Lazy<string> s_binary = new(Compile);

    public static string Build() => s_binary.Value;

    private static string Compile()
    {
        Requires.Tool("gcc", "gcc");
        string dir = Path.Combine(Path.GetTempPath(), $"kscope-uprobe-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string source = Path.Combine(dir, "target.c");
        File.WriteAllText(source, """
            #include <stdlib.h>
            __attribute__((noinline)) int kscope_target(int x) { __asm__ volatile(""); return x * 2; }
            int main(int argc, char **argv) {
                int n = argc > 1 ? atoi(argv[1]) : 1, sum = 0;
                for (int i = 0; i < n; i++) sum += kscope_target(i);
                return sum < 0;
            }
            """);
        string binary = Path.Combine(dir, "target");
        Tools.Check("gcc", "-O1", "-o", binary, source);
        return binary;
    }
}
