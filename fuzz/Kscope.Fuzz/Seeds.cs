using System.Buffers.Binary;
using System.IO.Compression;
using Kscope.Formats.Elf;

namespace Kscope.Fuzz;

/// <summary>
/// Derives every target's seed corpus from real inputs made by others on this machine: clang-built objects
/// of bpf/, the CO-RE objects libbpf-tools executables embed, Debian binaries, ../shared/testdata pprof
/// profiles, what fuzz/seedgen (a Go program) writes and is, a perf.data from perf record, this host's
/// procfs, cgroupfs, kernel config and kallsyms. Nothing big is committed: fuzz/run derives them into
/// fuzz/.work/seeds. AFL++ takes inputs up to 1 MiB; larger real inputs are left out (named in the log).
/// </summary>
internal static class Seeds
{
    private const int MaxSeed = 1 << 20;
    private const int TextSeed = 16 << 10;
    private static readonly HashSet<string> TextTargets = ["procfs", "cgroup", "kconfig", "kallsyms", "goroutines"];

    public static int Write(string outDir, string repo)
    {
        string work = Path.Combine(repo, "fuzz", ".work");
        var seeds = new Dictionary<string, List<(string Name, byte[] Bytes)>>();
        void Add(string target, string name, byte[] bytes)
        {
            if (TextTargets.Contains(target) && bytes.Length > TextSeed && !(bytes.Length > 1 && bytes[0] == 0x1f && bytes[1] == 0x8b))
            {
                // Text parsers see every line alike: the first 16 KiB (whole lines) cover them at a far higher exec/s.
                bytes = Lines(bytes, 0, TextSeed);
            }
            if (bytes.Length == 0 || bytes.Length > MaxSeed)
            {
                Console.Error.WriteLine($"seeds: {target}/{name}: {bytes.Length} bytes, left out (AFL++ takes 1..{MaxSeed})");
                return;
            }
            if (!seeds.TryGetValue(target, out var list))
            {
                seeds[target] = list = [];
            }
            list.Add((Sanitize(name), bytes));
        }

        // eBPF objects: clang-built (bpf/) and embedded in libbpf-tools executables.
        var objects = new List<(string Name, byte[] Bytes)>();
        foreach (string o in Directory.EnumerateFiles(Path.Combine(repo, "bpf"), "*.bpf.o", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            objects.Add((Path.GetFileName(o), File.ReadAllBytes(o)));
        }
        foreach (string tool in new[] { "execsnoop", "opensnoop", "runqlat", "biolatency", "tcpconnect", "offcputime" })
        {
            string path = "/usr/sbin/" + tool;
            if (!File.Exists(path))
            {
                continue;
            }
            byte[] exe = File.ReadAllBytes(path);
            Add("bpf-embedded", tool, exe);
            foreach (EmbeddedBpfObject e in EmbeddedBpfObjects.Find(exe))
            {
                objects.Add(($"{tool}.embedded.o", exe.AsSpan((int)e.Offset, e.Length).ToArray()));
            }
        }
        foreach (var (name, bytes) in objects)
        {
            Add("bpf-object", name, bytes);
            Add("elf", name, bytes);
            ElfFile elf = ElfFile.Parse(bytes);
            if (elf.GetSection(".BTF") is { } btf)
            {
                byte[] b = btf.Data.ToArray();
                Add("btf", name + ".BTF", b);
                if (elf.GetSection(".BTF.ext") is { } ext)
                {
                    byte[] pair = new byte[4 + b.Length + ext.Data.Length];
                    BinaryPrimitives.WriteUInt32LittleEndian(pair, (uint)b.Length);
                    b.CopyTo(pair, 4);
                    ext.Data.Span.CopyTo(pair.AsSpan(4 + b.Length));
                    Add("btf-ext", name, pair);
                }
            }
        }
        Add("bpf-embedded", "true", File.ReadAllBytes("/usr/bin/true"));
        foreach (string bin in new[] { "/usr/bin/true", "/usr/bin/env", "/lib/x86_64-linux-gnu/libcap.so.2" })
        {
            if (File.Exists(bin))
            {
                Add("elf", Path.GetFileName(bin), File.ReadAllBytes(bin));
            }
        }
        // A kernel module's BTF is split BTF; the kernel's own is too big for AFL++, but its first types are not
        // a valid file. Module BTF is parsed against no base here: it exercises the base-id checks.
        foreach (string m in new[] { "/sys/kernel/btf/vmlinux" })
        {
            if (File.Exists(m))
            {
                Add("btf", "vmlinux", ReadAll(m));
            }
        }

        // Go: what seedgen wrote and the seedgen binary itself.
        string go = Path.Combine(work, "go");
        if (Directory.Exists(go))
        {
            foreach (string f in Directory.EnumerateFiles(go).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(f);
                byte[] bytes = File.ReadAllBytes(f);
                if (name.EndsWith(".pprof", StringComparison.Ordinal))
                {
                    Add("pprof-gzip", name, bytes);
                    Add("pprof", name, Gunzip(bytes));
                }
                else if (name.EndsWith(".txt", StringComparison.Ordinal))
                {
                    Add("goroutines", name, bytes);
                }
                else if (ElfFile.IsElf(bytes))
                {
                    ElfFile elf = ElfFile.Parse(bytes);
                    if (elf.GetSection(".gopclntab") is { } pcln)
                    {
                        Add("go-pclntab", name + ".gopclntab", pcln.Data.ToArray());
                    }
                    if (elf.GetSection(".go.buildinfo") is { } bi)
                    {
                        byte[] blob = bi.Data.ToArray();
                        Add("go-buildinfo", name + ".go.buildinfo", blob);
                        Add("go-buildinfo", name + ".segment.elf", SegmentElf(blob));
                        Add("go-buildinfo", "pre1.18-layout", PointerLayout(new GoBuildInfoText(blob)));
                    }
                }
            }
        }
        // ../shared/testdata beside the repository (as the tests use it; CI lays a copy there).
        string pprofData = Path.GetFullPath(Path.Combine(repo, "..", "shared", "testdata", "pprof"));
        foreach (string f in Directory.Exists(pprofData) ? Directory.EnumerateFiles(pprofData, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
        {
            byte[] bytes = File.ReadAllBytes(f);
            if (bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
            {
                Add("pprof-gzip", Path.GetFileName(f), bytes);
                Add("pprof", Path.GetFileName(f), Gunzip(bytes));
            }
        }

        // perf records: the data section of a perf.data perf record wrote (fuzz/run records it).
        string perfData = Path.Combine(work, "perf.data");
        if (File.Exists(perfData))
        {
            foreach (var (name, bytes) in PerfChunks(File.ReadAllBytes(perfData)))
            {
                Add("perf-records", name, bytes);
            }
        }

        // procfs and cgroupfs text of this host.
        string[] proc = ["status", "stat", "cgroup", "maps", "limits", "mountinfo"];
        for (int i = 0; i < proc.Length; i++)
        {
            Add("procfs", proc[i], [(byte)i, .. ReadAll("/proc/self/" + proc[i])]);
            Add("procfs", "1-" + proc[i], [(byte)i, .. ReadAll("/proc/1/" + proc[i])]);
        }
        Add("procfs", "cpuinfo", [6, .. ReadAll("/proc/cpuinfo")]);
        Add("procfs", "cmdline", [7, .. ReadAll("/proc/self/cmdline")]);
        Add("procfs", "environ", [8, .. ReadAll("/proc/self/environ")]);
        Add("procfs", "schedstat", [9, .. ReadAll("/proc/self/schedstat")]);
        foreach (string dir in CgroupDirs())
        {
            string tag = dir.Replace('/', '_');
            void Cg(byte selector, string file)
            {
                string p = Path.Combine(dir, file);
                if (File.Exists(p))
                {
                    Add("cgroup", $"{tag}-{file}", [selector, .. ReadAll(p)]);
                }
            }
            Cg(0, "cpu.max");
            Cg(1, "cpuset.cpus.effective");
            Cg(1, "cpuset.cpus");
            Cg(2, "cpu.stat");
            Cg(2, "memory.stat");
            Cg(3, "cpu.pressure");
            Cg(3, "memory.pressure");
            Cg(4, "memory.max");
            Cg(4, "pids.max");
        }
        foreach (string p in new[] { "/proc/pressure/cpu", "/proc/pressure/io" })
        {
            if (File.Exists(p))
            {
                Add("cgroup", p.Replace('/', '_'), [3, .. ReadAll(p)]);
            }
        }
        Add("cgroup", "v1-quota-period", [5, .. "-1\n100000\n"u8.ToArray()]);

        // HTTP responses in the shapes Go's net/http writes for /debug/pprof (hand-written here, not captured).
        Add("http-response", "chunked", "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nDate: Wed, 02 Dec 2026 06:00:00 GMT\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"u8.ToArray());
        Add("http-response", "content-length", "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 19\r\n\r\n404 page not found\n"u8.ToArray());
        Add("http-response", "to-eof", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\ngoroutine 1 [running]:\n"u8.ToArray());

        // Kernel config, gzipped as /proc/config.gz and plain as in /boot.
        if (File.Exists("/proc/config.gz"))
        {
            byte[] gz = ReadAll("/proc/config.gz");
            Add("kconfig", "proc-config.gz", gz);
            Add("kconfig", "proc-config", Gunzip(gz));
        }
        foreach (string boot in Directory.Exists("/boot") ? Directory.EnumerateFiles("/boot", "config-*") : [])
        {
            Add("kconfig", Path.GetFileName(boot), File.ReadAllBytes(boot));
        }

        // kallsyms: the first, a middle and the last 16 KiB (built-in symbols, then modules), cut at lines.
        byte[] kallsyms = ReadAll("/proc/kallsyms");
        foreach (var (name, from) in new[] { ("head", 0), ("middle", kallsyms.Length / 2), ("tail", Math.Max(0, kallsyms.Length - TextSeed)) })
        {
            Add("kallsyms", name, Lines(kallsyms, from, TextSeed));
        }

        foreach (var (target, list) in seeds)
        {
            string dir = Path.Combine(outDir, target);
            Directory.CreateDirectory(dir);
            foreach (var (name, bytes) in list)
            {
                File.WriteAllBytes(Path.Combine(dir, name), bytes);
            }
            Console.WriteLine($"seeds: {target}: {list.Count} inputs, {list.Sum(s => (long)s.Bytes.Length)} bytes");
        }
        foreach (FuzzTarget t in Program.Targets.Where(t => !seeds.ContainsKey(t.Name)))
        {
            Console.Error.WriteLine($"seeds: {t.Name}: no real input found on this machine");
        }
        return Program.Targets.All(t => seeds.ContainsKey(t.Name)) ? 0 : 1;
    }

    private static IEnumerable<string> CgroupDirs()
    {
        string root = Directory.Exists("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
        yield return root;
        foreach (string d in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal).Take(6))
        {
            yield return d;
        }
    }

    private static string Sanitize(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());

    /// <summary>procfs files report size 0: read to the end.</summary>
    private static byte[] ReadAll(string path)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            using var m = new MemoryStream();
            f.CopyTo(m);
            return m.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static byte[] Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Lines(byte[] text, int from, int length)
    {
        int start = from == 0 ? 0 : Array.IndexOf(text, (byte)'\n', from) + 1;
        int end = Math.Min(text.Length, start + length);
        int lastNl = Array.LastIndexOf(text, (byte)'\n', end - 1);
        return text.AsSpan(start, Math.Max(0, lastNl + 1 - start)).ToArray();
    }

    /// <summary>An ELF with no section headers and one writable PT_LOAD holding the blob: FromElf's segment scan.</summary>
    private static byte[] SegmentElf(byte[] blob)
    {
        const int Ehdr = 64, Phdr = 56;
        int offset = 0x1000;
        byte[] elf = new byte[offset + blob.Length];
        Span<byte> h = elf;
        h[0] = 0x7f; h[1] = (byte)'E'; h[2] = (byte)'L'; h[3] = (byte)'F'; h[4] = 2; h[5] = 1; h[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 2);     // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 62);    // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], Ehdr);  // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], Ehdr);
        BinaryPrimitives.WriteUInt16LittleEndian(h[54..], Phdr);
        BinaryPrimitives.WriteUInt16LittleEndian(h[56..], 1);
        Span<byte> p = h[Ehdr..];
        BinaryPrimitives.WriteUInt32LittleEndian(p, 1);           // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 6);      // PF_R | PF_W
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)offset);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], 0x400000);
        BinaryPrimitives.WriteUInt64LittleEndian(p[24..], 0x400000);
        BinaryPrimitives.WriteUInt64LittleEndian(p[32..], (ulong)blob.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(p[40..], (ulong)blob.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(p[48..], 0x1000);
        blob.CopyTo(elf, offset);
        return elf;
    }

    /// <summary>The version and module text of a 1.18+ blob.</summary>
    private sealed class GoBuildInfoText
    {
        public GoBuildInfoText(byte[] blob)
        {
            var r = new Formats.SpanReader(blob, "buildinfo");
            r.Position = 32;
            Version = r.Take((int)r.ULeb128()).ToArray();
            Module = r.Take((int)r.ULeb128()).ToArray();
        }

        public byte[] Version { get; }
        public byte[] Module { get; }
    }

    /// <summary>
    /// The pre-1.18 layout Go 1.13-1.17 wrote, rebuilt from a real blob's strings: 8-byte pointers at 16 and 24 to
    /// Go string headers {ptr, len}; addresses are offsets into the input (the target's flat address space).
    /// </summary>
    private static byte[] PointerLayout(GoBuildInfoText t)
    {
        int versionAt = 64, moduleAt = versionAt + t.Version.Length;
        byte[] b = new byte[moduleAt + t.Module.Length];
        b[0] = 0xff;
        " Go buildinf:"u8.CopyTo(b.AsSpan(1));
        b[14] = 8;
        b[15] = 0;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), 32);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 48);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), (ulong)versionAt);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(40), (ulong)t.Version.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), (ulong)moduleAt);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(56), (ulong)t.Module.Length);
        t.Version.CopyTo(b, versionAt);
        t.Module.CopyTo(b, moduleAt);
        return b;
    }

    /// <summary>
    /// perf.data (tools/perf/Documentation/perf.data-file-format.txt): "PERFILE2", header size, attr size, then
    /// {offset, size} of attrs, data, event types. The first attr's sample_type is at byte 24 of perf_event_attr.
    /// Seeds are the sample_type followed by up to 64 KiB of whole records.
    /// </summary>
    private static IEnumerable<(string, byte[])> PerfChunks(byte[] file)
    {
        if (file.Length < 104 || !file.AsSpan(0, 8).SequenceEqual("PERFILE2"u8))
        {
            yield break;
        }
        ulong attrSize = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(16));
        long attrsAt = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(24));
        long dataAt = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(40));
        long dataSize = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(48));
        if (attrSize < 32)
        {
            yield break;
        }
        ulong sampleType = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan((int)attrsAt + 24));
        ReadOnlySpan<byte> data = file.AsSpan((int)dataAt, (int)Math.Min(dataSize, file.Length - dataAt));
        int chunk = 0, at = 0;
        var list = new List<(string, byte[])>();
        while (at < data.Length && chunk < 8)
        {
            int start = at;
            while (at + 8 <= data.Length)
            {
                int size = BinaryPrimitives.ReadUInt16LittleEndian(data[(at + 6)..]);
                if (size < 8 || at + size > data.Length || at + size - start > (64 << 10))
                {
                    break;
                }
                at += size;
            }
            if (at == start)
            {
                break;
            }
            byte[] seed = new byte[8 + at - start];
            BinaryPrimitives.WriteUInt64LittleEndian(seed, sampleType);
            data[start..at].CopyTo(seed.AsSpan(8));
            list.Add(($"perf-record-{chunk++}", seed));
        }
        foreach (var c in list)
        {
            yield return c;
        }
    }
}
