namespace Kscope.Formats.Tests;

/// <summary>
/// A real eBPF ELF object compiled by the test from C with <c>clang -g -target bpf</c> (and bpfeb for
/// big-endian): .BTF, .BTF.ext (func_info, line_info, CO-RE relocations), maps and relocations.
/// Compiled once per process into a temp folder.
/// </summary>
internal static class BpfTestObject
{
    internal const string Source = """
        #define SEC(n) __attribute__((section(n), used))
        #define __uint(name, val) int (*name)[val]
        #define __type(name, val) typeof(val) *name
        typedef unsigned int u32;
        typedef unsigned long long u64;

        enum color { RED = 1, GREEN = 2, BLUE = -4 };
        enum big64 { HUGE = 0x1234567890ULL };

        struct task_like {
            int pid;
            unsigned int flag_a : 3;
            unsigned int flag_b : 5;
            unsigned long long counter;
            union { int as_int; float as_float; } u;
            const volatile char name[16];
            struct task_like *parent;
            enum color c;
        } __attribute__((preserve_access_index));

        struct {
            __uint(type, 1);
            __uint(max_entries, 16);
            __type(key, u32);
            __type(value, u64);
        } counts SEC(".maps");

        int global_value = 7;
        const char _license[] SEC("license") = "GPL";

        static __attribute__((noinline)) int helper(struct task_like *t, enum big64 b)
        {
            return t->pid + (int)b;
        }

        SEC("tracepoint/syscalls/sys_enter_openat")
        int on_open(struct task_like *ctx)
        {
            u32 key = 0;
            void *(*lookup)(void *, const void *) = (void *)1;
            u64 *v = lookup(&counts, &key);
            if (v)
                *v += ctx->flag_b + ctx->parent->pid + global_value;
            return helper(ctx, HUGE);
        }
        """;

    private static readonly Lazy<string> s_dir = new(Compile);

    /// <summary>Path of the little-endian object (skips when clang is absent, strictly failing in CI).</summary>
    public static string LittleEndianPath => Path.Combine(Dir, "test.bpf.o");

    public static string BigEndianPath => Path.Combine(Dir, "test.bpfeb.o");

    public static string Dir
    {
        get
        {
            Requires.Tool("clang", "clang");
            return s_dir.Value;
        }
    }

    private static string Compile()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"kscope-bpf-test-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string c = Path.Combine(dir, "test.bpf.c");
        File.WriteAllText(c, Source);
        Tools.Check("clang", "-g", "-O2", "-target", "bpfel", "-c", c, "-o", Path.Combine(dir, "test.bpf.o"));
        Tools.Check("clang", "-g", "-O2", "-target", "bpfeb", "-c", c, "-o", Path.Combine(dir, "test.bpfeb.o"));
        return dir;
    }
}
