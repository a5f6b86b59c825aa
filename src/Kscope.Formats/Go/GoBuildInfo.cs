using System.Buffers.Binary;
using System.Text;
using Kscope.Formats.Elf;

namespace Kscope.Formats.Go;

/// <summary>
/// A Go binary's embedded build information, as <c>go version -m</c> prints it: the Go version and
/// the module info (path, mod, dep, build lines).
/// </summary>
/// <remarks>
/// Layout (src/debug/buildinfo/buildinfo.go): in .go.buildinfo (or found by its magic in the data),
/// 32 bytes: "\xff Go buildinf:" (14 bytes), pointer size u8, flags u8 (bit 0 big-endian, bit 1
/// inline strings), padding. With inline strings (Go 1.18+) the version and the module info follow
/// at offset 32 as uvarint-length-prefixed strings; before, at offsets 16 and 16+P are pointers to
/// Go string headers {ptr, len}. The module info is wrapped in 16-byte sentinels.
/// </remarks>
public sealed class GoBuildInfo
{
    private const string Format = "Go buildinfo";
    private static readonly byte[] s_magic = [0xff, .. " Go buildinf:"u8];

    private GoBuildInfo(string goVersion, string modInfo)
    {
        GoVersion = goVersion;
        ModuleInfo = modInfo;
        var deps = new List<string>();
        var settings = new List<(string, string)>();
        foreach (string line in modInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split('\t');
            switch (f[0])
            {
                case "path" when f.Length > 1: Path = f[1]; break;
                case "mod" when f.Length > 1: MainModule = f[1] + (f.Length > 2 ? "@" + f[2] : ""); break;
                case "dep" when f.Length > 1: deps.Add(f[1] + (f.Length > 2 ? "@" + f[2] : "")); break;
                case "build" when f.Length > 1:
                    int eq = f[1].IndexOf('=');
                    settings.Add(eq < 0 ? (f[1], "") : (f[1][..eq], f[1][(eq + 1)..]));
                    break;
            }
        }
        Dependencies = deps;
        Settings = settings;
    }

    /// <summary>"go1.19.8".</summary>
    public string GoVersion { get; }

    /// <summary>The raw module info lines ("path\t…", "mod\t…", "dep\t…", "build\t…").</summary>
    public string ModuleInfo { get; }

    /// <summary>The main package path ("command-line-arguments", "cmd/go").</summary>
    public string Path { get; } = "";

    /// <summary>"module@version" of the main module, or "".</summary>
    public string MainModule { get; } = "";

    public IReadOnlyList<string> Dependencies { get; }

    /// <summary>Build settings: -compiler, CGO_ENABLED, GOARCH, vcs.revision…</summary>
    public IReadOnlyList<(string Key, string Value)> Settings { get; }

    /// <summary>Exactly what <c>go version -m FILE</c> prints (after "FILE: ").</summary>
    public string ToGoVersionM()
    {
        var sb = new StringBuilder(GoVersion).Append('\n');
        foreach (string line in ModuleInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            sb.Append('\t').Append(line).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The build info of a Go ELF binary, or null when it has none.</summary>
    public static GoBuildInfo? FromElf(ElfFile elf)
    {
        ReadOnlyMemory<byte> data;
        long baseOffset;
        if (elf.GetSection(".go.buildinfo") is { } s)
        {
            data = s.Data;
            baseOffset = (long)s.Offset;
        }
        else
        {
            // Stripped of section headers: look through writable PT_LOAD segments for the magic (16-byte aligned).
            data = ReadOnlyMemory<byte>.Empty;
            baseOffset = 0;
            foreach (ElfProgramHeader p in elf.ProgramHeaders)
            {
                if (p.Type != ElfSegmentType.Load || (p.Flags & ElfProgramHeader.FlagWrite) == 0 || !elf.TryReadSegment(p, out ReadOnlyMemory<byte> seg))
                {
                    continue;
                }
                for (int i = 0; i + 32 <= seg.Length; i += 16)
                {
                    if (seg.Span.Slice(i, 14).SequenceEqual(s_magic))
                    {
                        data = seg[i..];
                        baseOffset = (long)p.Offset + i;
                        break;
                    }
                }
                if (!data.IsEmpty)
                {
                    break;
                }
            }
            if (data.IsEmpty)
            {
                return null;
            }
        }
        return Parse(data.Span, baseOffset, (address, length) => elf.TryRead(address, length, out ReadOnlyMemory<byte> bytes) ? bytes : (ReadOnlyMemory<byte>?)null);
    }

    /// <summary>Parses the buildinfo blob; <paramref name="readAt"/> resolves pointers (pre-1.18 layout).</summary>
    public static GoBuildInfo? Parse(ReadOnlySpan<byte> data, long baseOffset = 0, Func<ulong, int, ReadOnlyMemory<byte>?>? readAt = null)
    {
        var r = new SpanReader(data, Format, baseOffset: baseOffset);
        if (data.Length < 32 || !data[..14].SequenceEqual(s_magic))
        {
            return null;
        }
        r.Skip(14);
        int ptrSize = r.U8();
        int flags = r.U8();
        byte[] version, mod;
        if ((flags & 2) != 0)
        {
            r.Position = 32;
            version = VarString(ref r);
            mod = VarString(ref r);
        }
        else
        {
            if (ptrSize is not (4 or 8) || readAt is null)
            {
                throw r.Error(14, $"bad pointer size {ptrSize}");
            }
            bool big = (flags & 1) != 0;
            ulong Ptr(ReadOnlySpan<byte> b) => ptrSize == 8
                ? (big ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b))
                : (big ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b));
            byte[] GoString(ulong headerAddress, long at)
            {
                // readAt's answer is checked for length too: a resolver may hand back fewer bytes than asked.
                ReadOnlyMemory<byte>? h = readAt(headerAddress, ptrSize * 2);
                if (h is not { } hdr || hdr.Length < ptrSize * 2)
                {
                    throw new MalformedDataException(Format, at, $"string header at 0x{headerAddress:x} outside the file");
                }
                ulong p = Ptr(hdr.Span), n = Ptr(hdr.Span[ptrSize..]);
                if (n > 1 << 24 || readAt(p, (int)n) is not { } bytes || bytes.Length != (int)n)
                {
                    throw new MalformedDataException(Format, at, $"string at 0x{p:x} (+{n}) outside the file");
                }
                return bytes.ToArray();
            }
            version = GoString(Ptr(data[16..]), baseOffset + 16);
            mod = GoString(Ptr(data[(16 + ptrSize)..]), baseOffset + 16 + ptrSize);
        }
        // Strip the 16-byte sentinels around the module info.
        if (mod.Length >= 33 && mod[^17] == (byte)'\n')
        {
            mod = mod[16..^16];
        }
        else if (mod.Length > 0 && mod.Length < 32)
        {
            throw r.Error(32, "module info shorter than its sentinels");
        }
        return new GoBuildInfo(Encoding.UTF8.GetString(version), Encoding.UTF8.GetString(mod));
    }

    private static byte[] VarString(ref SpanReader r)
    {
        long at = r.AbsoluteOffset;
        ulong n = r.ULeb128();
        if (n > (ulong)r.Remaining)
        {
            throw new MalformedDataException(Format, at, $"string length {n} exceeds the {r.Remaining} bytes left");
        }
        return r.Take((int)n).ToArray();
    }
}
