using System.Diagnostics;
using System.Globalization;

namespace Kscope.Cli.Tests.Go;

/// <summary>
/// The Go corpus that tests/corpus/go-corpus downloads and builds into the project cache folder
/// ($KSCOPE_CACHE/go-corpus, default ~/.cache/kscope/go-corpus): Debian packages' Go binaries,
/// Go toolchains and corpusprog built with each. Also builds gosymoracle (debug/gosym) with the
/// newest toolchain, which knows every pclntab format.
/// </summary>
internal static class GoCorpus
{
    private static readonly Lazy<string> s_oracle = new(BuildOracle);

    public sealed record Entry(string Kind, string Name, string Version, string Arch, string Path);

    public static string Dir => Path.Combine(Environment.GetEnvironmentVariable("KSCOPE_CACHE") is { Length: > 0 } c ? c : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "kscope"), "go-corpus");

    /// <summary>The manifest's entries; unmet (skip, or fail under KSCOPE_STRICT=1) when the corpus was not fetched.</summary>
    public static IReadOnlyList<Entry> Manifest()
    {
        string manifest = Path.Combine(Dir, "MANIFEST.tsv");
        if (!File.Exists(manifest))
        {
            Requires.Unmet($"no Go corpus at {Dir} (run tests/corpus/go-corpus; .ci/run does)");
        }
        return File.ReadAllLines(manifest).Where(l => l.Length > 0).Select(l => l.Split('\t')).Where(f => f.Length == 5)
            .Select(f => new Entry(f[0], f[1], f[2], f[3], f[4])).ToList();
    }

    /// <summary>GOROOT of the newest toolchain in the corpus.</summary>
    public static string NewestGoRoot() =>
        Manifest().Where(e => e.Kind == "go").OrderBy(e => Version.Parse(VersionOf(e.Name))).Last().Path;

    private static string VersionOf(string package) => package.Replace("golang-", "", StringComparison.Ordinal).Replace("-go", "", StringComparison.Ordinal);

    /// <summary>Go binaries of the corpus: (label, path, arch) for every ELF file of the Debian packages and every built program.</summary>
    public static IEnumerable<(string Label, string Path, string Arch)> Binaries()
    {
        foreach (Entry e in Manifest())
        {
            if (e.Kind == "built")
            {
                yield return ($"{e.Version}/{e.Name}", e.Path, e.Arch);
            }
            else if (e.Kind == "deb")
            {
                foreach (string file in Directory.EnumerateFiles(e.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var info = new FileInfo(file);
                    if (info.LinkTarget is not null || info.Length < 100_000 || (info.UnixFileMode & UnixFileMode.UserExecute) == 0 || !IsElf(file))
                    {
                        continue;
                    }
                    yield return ($"{e.Name}:{e.Arch} {Path.GetRelativePath(e.Path, file)}", file, e.Arch);
                }
            }
        }
    }

    private static bool IsElf(string file)
    {
        Span<byte> head = stackalloc byte[4];
        using FileStream s = File.OpenRead(file);
        return s.Read(head) == 4 && head.SequenceEqual("\x7f"u8.ToArray().Concat("ELF"u8.ToArray()).ToArray());
    }

    /// <summary>The oracle's dump of <paramref name="binary"/>, or null when it finds no pclntab there (not a Go binary).</summary>
    public static OracleDump? Oracle(string binary)
    {
        var psi = new ProcessStartInfo(s_oracle.Value) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-bytes");
        psi.ArgumentList.Add("13");
        psi.ArgumentList.Add(binary);
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        var dump = OracleDump.Read(p.StandardOutput);
        p.WaitForExit();
        string e = err.GetAwaiter().GetResult();
        if (p.ExitCode != 0)
        {
            Assert.True(e.Contains("no Go pclntab", StringComparison.Ordinal), $"gosymoracle {binary} exited {p.ExitCode}: {e}");
            return null;
        }
        return dump;
    }

    private static string BuildOracle()
    {
        string goroot = NewestGoRoot();
        string dir = TempDirectory.ForProcess("kscope-gosymoracle");
        string exe = Path.Combine(dir, "gosymoracle");
        GoBuild(goroot, Path.Combine(Tools.RepoRoot, "tests", "Kscope.Cli.Tests", "Go", "gosymoracle"), dir, "build", "-o", exe, ".");
        return exe;
    }

    /// <summary>Runs GOROOT/bin/go offline (GOPATH mode, no proxy, the corpus's build cache) in <paramref name="workDir"/>.</summary>
    public static string GoBuild(string goroot, string workDir, string home, params string[] args) =>
        GoOffline.Run(goroot, workDir, home, Path.Combine(Dir, "gocache"), args);
}

/// <summary>gosymoracle's output (see its main.go): header values, every function, sampled pcs, entry bytes.</summary>
internal sealed class OracleDump
{
    public sealed record Function(ulong Entry, ulong End, string Name, string File, int Line);

    public sealed record Sample(ulong Pc, string Function, string File, int Line);

    public uint Magic { get; private set; }

    public ulong TextStart { get; private set; }

    public ulong ElfText { get; private set; }

    public string Table { get; private set; } = "";

    public int Relocations { get; private set; }

    /// <summary>Functions without a pc-line table (the oracle answers as the runtime does for them).</summary>
    public int NoLines { get; private set; }

    public List<Function> Functions { get; } = [];

    public List<Sample> Samples { get; } = [];

    public List<(ulong Entry, byte[] Bytes)> EntryBytes { get; } = [];

    private static ulong Hex(string s) => ulong.Parse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    public static OracleDump Read(TextReader reader)
    {
        var d = new OracleDump();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            string[] f = line.Split('\t');
            switch (f[0])
            {
                case "magic":
                    d.Magic = (uint)Hex(f[1]);
                    break;
                case "text":
                    d.TextStart = Hex(f[1]);
                    break;
                case "elftext":
                    d.ElfText = Hex(f[1]);
                    break;
                case "table":
                    d.Table = $"{f[1]} {f[2]}";
                    break;
                case "nolines":
                    d.NoLines = int.Parse(f[1], CultureInfo.InvariantCulture);
                    break;
                case "relocs":
                    d.Relocations = int.Parse(f[1], CultureInfo.InvariantCulture);
                    break;
                case "F":
                    d.Functions.Add(new Function(Hex(f[1]), Hex(f[2]), f[3], f[4], int.Parse(f[5], CultureInfo.InvariantCulture)));
                    break;
                case "S":
                    d.Samples.Add(new Sample(Hex(f[1]), d.Functions[^1].Name, f[2], int.Parse(f[3], CultureInfo.InvariantCulture)));
                    break;
                case "B":
                    d.EntryBytes.Add((Hex(f[1]), Convert.FromHexString(f[2])));
                    break;
                default:
                    throw new InvalidDataException($"gosymoracle: unexpected line '{line}'");
            }
        }
        return d;
    }
}
