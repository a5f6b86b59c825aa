using Kscope.Formats;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Asm;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Kernel.Btf;

namespace Kscope.Kernel.Tests.Bpf;

/// <summary>
/// The per-boot CO-RE cache: a second load of the same object takes its relocations from the cache and gives the
/// kernel exactly the instructions a load resolved against vmlinux BTF gives; a damaged, foreign or other-key entry
/// is never used (the load resolves again and rewrites it); a directory others may write is not used at all.
/// </summary>
[Trait("Category", "Kernel")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CoreCacheTests
{
    private static CollectionSpec Spec()
    {
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Test("core_kinds"));
        spec.SetVariable("target_tgid", (uint)Environment.ProcessId);
        return spec;
    }

    private static void RequireBtf()
    {
        Requires.Root();
        if (!VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
    }

    /// <summary>
    /// Every loaded program's instructions after CO-RE, as the bytes the kernel was given, except the map fds patched
    /// into map references (each load creates its own maps).
    /// </summary>
    private static Dictionary<string, string> Loaded(Collection c) =>
        c.Programs.ToDictionary(p => p.Key, p => Convert.ToHexString(new InstructionList(p.Value.Spec!.Instructions.Select(
            i => i.IsLoadImm64 && i.Reference is not null ? i with { Constant = i.Constant & unchecked((long)0xffffffff00000000) } : i)).Encode()));

    [Fact]
    public void Load_Twice_SecondTakesTheCacheAndLoadsTheSameInstructions()
    {
        RequireBtf();
        using var dir = new TempDirectory("kscope-corecache");
        string cacheDir = Path.Combine(dir.Path, "cache");
        Dictionary<string, string> uncached;
        using (Collection c = Collection.Load(Spec(), new CollectionOptions { CoreCache = null }))
        {
            uncached = Loaded(c);
        }
        var first = new CoreCache(cacheDir);
        using (Collection c = Collection.Load(Spec(), new CollectionOptions { CoreCache = first }))
        {
            Assert.Equal(uncached, Loaded(c));
        }
        Assert.Equal((0, 1), (first.Hits, first.Stores));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(cacheDir));
        string entry = Assert.Single(Directory.GetFiles(cacheDir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(entry));

        var second = new CoreCache(cacheDir);
        using (Collection c = Collection.Load(Spec(), new CollectionOptions { CoreCache = second }))
        {
            Assert.Equal(uncached, Loaded(c));
            c.AttachAll(); // the cached program is the one that runs
        }
        Assert.Equal((1, 0), (second.Hits, second.Stores));
    }

    [Fact]
    public void Load_DamagedEntry_ResolvesAgainAndRewritesIt()
    {
        RequireBtf();
        using var dir = new TempDirectory("kscope-corecache");
        string cacheDir = Path.Combine(dir.Path, "cache");
        Dictionary<string, string> expected;
        using (Collection c = Collection.Load(Spec(), new CollectionOptions { CoreCache = new CoreCache(cacheDir) }))
        {
            expected = Loaded(c);
        }
        string entry = Assert.Single(Directory.GetFiles(cacheDir));
        byte[] good = File.ReadAllBytes(entry);
        foreach (byte[] bad in new[] { good[..^3], good.Concat(new byte[] { 1 }).ToArray(), Flip(good, good.Length - 9), Flip(good, 0) })
        {
            File.WriteAllBytes(entry, bad);
            var cache = new CoreCache(cacheDir);
            using (Collection c = Collection.Load(Spec(), new CollectionOptions { CoreCache = cache }))
            {
                Assert.Equal(expected, Loaded(c));
            }
            Assert.Equal((0, 1), (cache.Hits, cache.Stores));
            Assert.Equal(good, File.ReadAllBytes(entry));
        }
    }

    [Fact]
    public void Load_GroupWritableDirectory_IsNotUsed()
    {
        RequireBtf();
        using var dir = new TempDirectory("kscope-corecache");
        string cacheDir = Path.Combine(dir.Path, "cache");
        Directory.CreateDirectory(cacheDir);
        File.SetUnixFileMode(cacheDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute);
        var cache = new CoreCache(cacheDir);
        for (int i = 0; i < 2; i++)
        {
            using Collection c = Collection.Load(Spec(), new CollectionOptions { CoreCache = cache });
        }
        Assert.Equal((0, 0), (cache.Hits, cache.Stores));
        Assert.Empty(Directory.GetFiles(cacheDir));
    }

    [Fact]
    public void Parse_EveryPrefixAndOtherKey_TypedErrorOrNoEntry()
    {
        byte[] key = "boot vmlinux build btf relocations"u8.ToArray();
        var programs = new Dictionary<string, CoreCache.ProgramEntry>
        {
            ["a"] = new([new CoreResult(true, 0x28, 4, null), new CoreResult(false, 0, 0, "struct x has no field 'y'")], 0),
            ["tp_btf"] = new([], 1234),
            ["last"] = new(Enumerable.Range(0, 50).Select(i => new CoreResult(true, (ulong)i, 0, null)).ToArray(), 0), // 15 bytes each
        };
        byte[] data = CoreCache.Serialize(key, programs);
        Dictionary<string, CoreCache.ProgramEntry> back = CoreCache.Parse(data, key)!;
        Assert.Equal(programs.Keys.Order(), back.Keys.Order());
        Assert.Equal(programs["a"].Relocations, back["a"].Relocations);
        Assert.Equal(1234u, back["tp_btf"].AttachBtfId);
        Assert.Equal(programs["last"].Relocations, back["last"].Relocations);

        Assert.Null(CoreCache.Parse(data, "another key of the same length!!!!!"u8.ToArray()));
        for (int n = 0; n < data.Length; n++)
        {
            byte[] prefix = data[..n];
            var e = Assert.Throws<MalformedDataException>(() => CoreCache.Parse(prefix, key));
            Assert.True(e.Offset >= 0 && e.Offset <= n, $"prefix {n}: offset {e.Offset}");
        }
    }

    private static byte[] Flip(byte[] data, int at)
    {
        byte[] copy = (byte[])data.Clone();
        copy[at] ^= 0xff;
        return copy;
    }
}
