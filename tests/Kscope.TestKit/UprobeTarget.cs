namespace Kscope.TestKit;

/// <summary>A tiny C program with a non-inlined function to put uprobes on; built once per test run with gcc.</summary>
public static class UprobeTarget
{
    private static readonly Lazy<string> s_binary = new(Compile);

    public static string Build() => s_binary.Value;

    /// <summary>
    /// A copy of the target for attach-by-section tests: uprobes are per inode, so tests that attach to every
    /// process running the copy do not count the other tests' runs of the original.
    /// </summary>
    public static string SectionCopy() => s_copy.Value;

    private static readonly Lazy<string> s_copy = new(() =>
    {
        string copy = Build() + "-sections";
        File.Copy(Build(), copy, overwrite: true);
        return copy;
    });

    private static string Compile()
    {
        Requires.Tool("gcc", "gcc");
        string dir = Path.Combine(Path.GetTempPath(), $"kscope-uprobe-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string source = Path.Combine(dir, "target.c");
        File.WriteAllText(source, """
            #include <stdio.h>
            #include <stdlib.h>
            __attribute__((noinline)) int kscope_target(int x) { __asm__ volatile(""); return x * 2; }
            #if defined(__x86_64__)
            /* Four one-byte nops before the body, so kscope_nops+1..+4 are instruction boundaries (uprobe symbol+offset). */
            __asm__(".text\n.globl kscope_nops\n.type kscope_nops,@function\nkscope_nops:\n"
                    "nop\nnop\nnop\nnop\nlea (%rdi,%rdi),%eax\nret\n.size kscope_nops, .-kscope_nops\n");
            int kscope_nops(int x);
            #else
            __attribute__((noinline)) int kscope_nops(int x) { __asm__ volatile(""); return x * 2; }
            #endif
            /* target N [wait]: calls kscope_target and kscope_nops N times; with "wait", first waits for a line on stdin. */
            int main(int argc, char **argv) {
                int n = argc > 1 ? atoi(argv[1]) : 1, sum = 0;
                if (argc > 2) { char line[8]; if (!fgets(line, sizeof line, stdin)) return 2; }
                for (int i = 0; i < n; i++) sum += kscope_target(i) + kscope_nops(i);
                return sum < 0;
            }
            """);
        string binary = Path.Combine(dir, "target");
        Tools.Check("gcc", "-O1", "-o", binary, source);
        return binary;
    }
}
