using System.Buffers.Binary;
using System.Text;
using Kscope.Formats;
using Kscope.Kernel.Btf;

namespace Kscope.Kernel.Bpf.Loader;

/// <summary>
/// CO-RE results (and BTF attach ids) of an object against the running kernel, kept per boot so that loading the same
/// object again needs neither the kernel's BTF (reading and indexing /sys/kernel/btf/vmlinux is most of a gadget's
/// start-up) nor the relocation walk. An entry is keyed by everything the results depend on — this boot
/// (<c>/proc/sys/kernel/random/boot_id</c>), the vmlinux BTF file's size and modification time, this build of kscope
/// (size and modification time of the executable or assembly), the object's BTF and every relocation and attach
/// target — and the key is stored whole in the entry and compared byte for byte, so an entry is used only for exactly
/// its inputs. Anything unexpected (no boot id, an unreadable, foreign or damaged entry, a directory others may write)
/// means no cache: the loader then resolves against the kernel's BTF as if there were none.
/// </summary>
/// <remarks>
/// Where: <c>$KSCOPE_CACHE_DIR</c> when set (empty or <c>off</c> disables the cache), else <c>/run/kscope</c> (a tmpfs
/// emptied at boot, writable by root only). Entry layout, little-endian:
/// <c>"KSCC" u32 version | u32 key_len, key | u32 programs | per program: u16 name_len, name (UTF-8), u32 attach_btf_id,
/// u32 relocations | per relocation: u8 ok, i32 new_size, u64 value, u16 error_len, error (UTF-8) | u64 FNV-1a of all
/// the bytes before it</c> (a damaged entry is detected, not used).
/// </remarks>
public sealed class CoreCache
{
    private const uint Magic = 0x4343534b; // "KSCC"
    private const uint Version = 1;
    private const string Format = "kscope CO-RE cache";
    private const string BootIdPath = "/proc/sys/kernel/random/boot_id";
    private const int MaxEntries = 256;

    /// <summary>The cache the loader uses unless told otherwise; null when disabled (KSCOPE_CACHE_DIR empty or "off").</summary>
    public static CoreCache? Default { get; } = FromEnvironment();

    public CoreCache(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>Entries found and used, and entries written, by this process (for tests and the docs' profile).</summary>
    public int Hits { get; private set; }

    public int Stores { get; private set; }

    private static CoreCache? FromEnvironment()
    {
        string? dir = Environment.GetEnvironmentVariable("KSCOPE_CACHE_DIR");
        if (dir is null)
        {
            return new CoreCache("/run/kscope");
        }
        return dir.Length == 0 || dir == "off" ? null : new CoreCache(dir);
    }

    /// <summary>The results of one program: its relocations' in order and its BTF attach id (0 when it has none).</summary>
    public sealed record ProgramEntry(IReadOnlyList<CoreResult> Relocations, uint AttachBtfId);

    /// <summary>The key of <paramref name="spec"/> on this boot and kernel, or null when it cannot be formed.</summary>
    internal static byte[]? Key(CollectionSpec spec)
    {
        try
        {
            if (spec.KernelBtf is not { } btf || !File.Exists(VmlinuxBtf.Path))
            {
                return null;
            }
            var key = new MemoryStream();
            void Text(string s)
            {
                byte[] b = Encoding.UTF8.GetBytes(s);
                Span<byte> n = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(n, b.Length);
                key.Write(n);
                key.Write(b);
            }
            Text(File.ReadAllText(BootIdPath).Trim());
            var vmlinux = new FileInfo(VmlinuxBtf.Path);
            Text($"vmlinux {vmlinux.Length} {vmlinux.LastWriteTimeUtc.Ticks}");
            // this build: the assembly next to a JIT host (tests, dotnet run), else the executable (Native AOT)
            string assembly = System.IO.Path.Combine(AppContext.BaseDirectory, "Kscope.Kernel.dll");
            string self = File.Exists(assembly) ? assembly : Environment.ProcessPath ?? "";
            var build = new FileInfo(self);
            Text($"build {self} {(build.Exists ? build.Length : -1)} {(build.Exists ? build.LastWriteTimeUtc.Ticks : 0)}");
            Text($"btf {btf.Length}");
            key.Write(btf);
            foreach (ProgramSpec p in spec.Programs.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                Text($"program {p.Name} {p.Type} {p.ExpectedAttachType} {p.AttachTo} {p.AttachBtfId}");
                foreach (CoreRelocation r in p.CoreRelocations ?? [])
                {
                    Text($"{r.InstructionIndex} {r.LocalTypeId} {(int)r.Kind} {r.AccessString}");
                }
            }
            return key.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The entry stored for exactly <paramref name="key"/>, or null (none, unreadable, damaged, another key).</summary>
    internal Dictionary<string, ProgramEntry>? TryLoad(byte[] key)
    {
        try
        {
            string path = PathOf(key);
            if (!File.Exists(path) || !Trusted())
            {
                return null;
            }
            Dictionary<string, ProgramEntry>? entry = Parse(File.ReadAllBytes(path), key);
            if (entry is not null)
            {
                Hits++;
            }
            return entry;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MalformedDataException)
        {
            return null; // a damaged entry is resolved again and overwritten
        }
    }

    /// <summary>Stores <paramref name="programs"/> under <paramref name="key"/>; failures to write are ignored.</summary>
    internal void Store(byte[] key, IReadOnlyDictionary<string, ProgramEntry> programs)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        try
        {
            System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (!Trusted())
            {
                return;
            }
            string[] entries = System.IO.Directory.GetFiles(Directory, "core-*");
            if (entries.Length >= MaxEntries)
            {
                foreach (string old in entries)
                {
                    File.Delete(old); // builds and objects come and go within a boot: start again rather than grow
                }
            }
            string path = PathOf(key);
            string temporary = $"{path}.{Environment.ProcessId}.{Random.Shared.Next():x8}.tmp";
            using (var file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                file.Write(Serialize(key, programs));
            }
            File.Move(temporary, path, overwrite: true);
            Stores++;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The directory is one only its owner can write (as /run/kscope, created 0700 by root).</summary>
    private bool Trusted()
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }
        var info = new DirectoryInfo(Directory);
        return info.Exists && info.LinkTarget is null
            && (info.UnixFileMode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0;
    }

    // FNV-1a 64 names the file (the entry holds the whole key) and checks it for damage
    private string PathOf(byte[] key) => System.IO.Path.Combine(Directory, $"core-{Fnv(key):x16}");

    private static ulong Fnv(ReadOnlySpan<byte> data)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return hash;
    }

    internal static byte[] Serialize(byte[] key, IReadOnlyDictionary<string, ProgramEntry> programs)
    {
        var o = new MemoryStream();
        byte[] n = new byte[8];
        void U8(byte v) => o.WriteByte(v);
        void U16(int v) { BinaryPrimitives.WriteUInt16LittleEndian(n, checked((ushort)v)); o.Write(n[..2]); }
        void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(n, v); o.Write(n[..4]); }
        void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(n, v); o.Write(n); }
        void Text(string s) { byte[] b = Encoding.UTF8.GetBytes(s); U16(b.Length); o.Write(b); }
        U32(Magic);
        U32(Version);
        U32((uint)key.Length);
        o.Write(key);
        U32((uint)programs.Count);
        foreach ((string name, ProgramEntry p) in programs)
        {
            Text(name);
            U32(p.AttachBtfId);
            U32((uint)p.Relocations.Count);
            foreach (CoreResult r in p.Relocations)
            {
                U8(r.Ok ? (byte)1 : (byte)0);
                U32((uint)r.NewSize);
                U64(r.Value);
                Text(r.Error ?? "");
            }
        }
        U64(Fnv(o.GetBuffer().AsSpan(0, (int)o.Length)));
        return o.ToArray();
    }

    /// <summary>Reads an entry; null when it holds another key; <see cref="MalformedDataException"/> when damaged.</summary>
    internal static Dictionary<string, ProgramEntry>? Parse(ReadOnlySpan<byte> data, byte[] key)
    {
        if (data.Length < 16)
        {
            throw new MalformedDataException(Format, data.Length, $"truncated: {data.Length} bytes");
        }
        if (BinaryPrimitives.ReadUInt64LittleEndian(data[^8..]) != Fnv(data[..^8]))
        {
            throw new MalformedDataException(Format, data.Length - 8, "checksum mismatch (damaged entry)");
        }
        data = data[..^8];
        var r = new SpanReader(data, Format);
        if (r.U32() != Magic)
        {
            throw r.Error(0, "bad magic");
        }
        uint version = r.U32();
        if (version != Version)
        {
            return null; // another kscope's format: resolve again
        }
        int keyLength = Count(ref r, 1);
        if (!r.Take(keyLength).SequenceEqual(key))
        {
            return null;
        }
        int programs = Count(ref r, 10);
        var result = new Dictionary<string, ProgramEntry>(programs, StringComparer.Ordinal);
        for (int i = 0; i < programs; i++)
        {
            long at = r.AbsoluteOffset;
            string name = Text(ref r);
            uint attachBtfId = r.U32();
            int count = Count(ref r, 15); // u8 + i32 + u64 + u16
            var relocations = new CoreResult[count];
            for (int j = 0; j < count; j++)
            {
                byte ok = r.U8();
                if (ok > 1)
                {
                    throw r.Error(r.Position - 1, $"relocation {j} of '{name}': bad flag {ok}");
                }
                int newSize = r.I32();
                ulong value = r.U64();
                string error = Text(ref r);
                relocations[j] = new CoreResult(ok == 1, value, newSize, ok == 1 ? null : error);
            }
            if (!result.TryAdd(name, new ProgramEntry(relocations, attachBtfId)))
            {
                throw r.Error(at, $"program '{name}' twice");
            }
        }
        if (!r.End)
        {
            throw r.Error($"{r.Remaining} bytes after the last program");
        }
        return result;
    }

    /// <summary>A u32 count of items at least <paramref name="minimumSize"/> bytes each, bounded by what is left.</summary>
    private static int Count(ref SpanReader r, int minimumSize)
    {
        uint count = r.U32();
        if (count > (uint)(r.Remaining / minimumSize))
        {
            throw r.Error(r.Position - 4, $"count {count} exceeds the {r.Remaining} bytes left");
        }
        return (int)count;
    }

    private static string Text(ref SpanReader r)
    {
        int length = r.U16();
        return Encoding.UTF8.GetString(r.Take(length));
    }
}
