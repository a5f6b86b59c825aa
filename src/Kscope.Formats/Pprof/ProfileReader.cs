using System.Buffers.Binary;
using Kscope.Formats.Compression;
using System.Text;

namespace Kscope.Formats.Pprof;

/// <summary>
/// Reads profile.proto (gzipped or not) with a span reader, no generated code.
/// </summary>
/// <remarks>
/// Wire format (protobuf): each field is a varint key <c>(field_number &lt;&lt; 3) | wire_type</c>
/// followed by a varint (type 0), 8 bytes (1), a varint length and that many bytes (2) or 4 bytes
/// (5). Repeated integers may be packed (one type-2 field) or not (one key per value); both are
/// accepted. Unknown fields are skipped. The string table can come after the messages that index
/// it, so the top level is read twice: first strings and the spans of sub-messages, then those
/// messages in dependency order (functions, mappings, locations, samples).
///
/// Field numbers (proto/profile.proto of github.com/google/pprof):
/// Profile: 1 sample_type, 2 sample, 3 mapping, 4 location, 5 function, 6 string_table,
///          7 drop_frames, 8 keep_frames, 9 time_nanos, 10 duration_nanos, 11 period_type,
///          12 period, 13 comment, 14 default_sample_type, 15 doc_url.
/// ValueType: 1 type, 2 unit.  Sample: 1 location_id, 2 value, 3 label.
/// Label: 1 key, 2 str, 3 num, 4 num_unit.
/// Mapping: 1 id, 2 memory_start, 3 memory_limit, 4 file_offset, 5 filename, 6 build_id,
///          7 has_functions, 8 has_filenames, 9 has_line_numbers, 10 has_inline_frames.
/// Location: 1 id, 2 mapping_id, 3 address, 4 line, 5 is_folded.  Line: 1 function_id, 2 line, 3 column.
/// Function: 1 id, 2 name, 3 system_name, 4 filename, 5 start_line.
/// Offsets in errors are into the uncompressed bytes.
/// </remarks>
public static class ProfileReader
{
    private const string Format = "pprof";

    /// <summary>
    /// Largest uncompressed profile accepted (a gzip bomb guard): 256 MiB, about 100 times the 240 s CPU profile
    /// of a busy Go service (large.cpu: 2.4 MB).
    /// </summary>
    public const int MaxUncompressedBytes = 256 << 20;

    /// <summary>Reads a whole profile from a stream, at most <see cref="MaxUncompressedBytes"/> bytes of it.</summary>
    public static Profile Read(Stream stream)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int n;
        while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + n > MaxUncompressedBytes)
            {
                throw new MalformedDataException(Format, buffer.Length, $"profile larger than {MaxUncompressedBytes} bytes");
            }
            buffer.Write(chunk, 0, n);
        }
        return Read(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>Reads a profile, gunzipping it first when it starts with the gzip magic.</summary>
    public static Profile Read(ReadOnlySpan<byte> data)
    {
        if (IsGzip(data))
        {
            byte[] raw = Gunzip(data);
            return ReadUncompressed(raw);
        }
        return ReadUncompressed(data);
    }

    public static bool IsGzip(ReadOnlySpan<byte> data) => Gzip.IsGzip(data);

    /// <summary>Gunzips a single-member gzip stream, at most <see cref="MaxUncompressedBytes"/> (see <see cref="Gzip"/>).</summary>
    public static byte[] Gunzip(ReadOnlySpan<byte> data) => Gzip.Decompress(data, MaxUncompressedBytes, Format);

    public static Profile ReadUncompressed(ReadOnlySpan<byte> data)
    {
        var profile = new Profile();
        var strings = new List<string>();
        var sampleSpans = new List<(int Offset, int Length)>();
        var mappingSpans = new List<(int Offset, int Length)>();
        var locationSpans = new List<(int Offset, int Length)>();
        var functionSpans = new List<(int Offset, int Length)>();
        var sampleTypeSpans = new List<(int Offset, int Length)>();
        (int Offset, int Length)? periodTypeSpan = null;
        var commentIndices = new List<long>();
        long dropFrames = 0, keepFrames = 0, defaultSampleType = 0, docUrl = 0;

        // Pass 1: strings, scalars and where the sub-messages are.
        var r = new SpanReader(data, Format);
        while (!r.End)
        {
            long keyOffset = r.AbsoluteOffset;
            (int field, int wire) = Key(ref r);
            switch (field)
            {
                case 1: sampleTypeSpans.Add(Message(ref r, wire, field)); break;
                case 2: sampleSpans.Add(Message(ref r, wire, field)); break;
                case 3: mappingSpans.Add(Message(ref r, wire, field)); break;
                case 4: locationSpans.Add(Message(ref r, wire, field)); break;
                case 5: functionSpans.Add(Message(ref r, wire, field)); break;
                case 6:
                    {
                        var (offset, length) = Message(ref r, wire, field);
                        strings.Add(Encoding.UTF8.GetString(data.Slice(offset, length)));
                        break;
                    }
                case 7: dropFrames = Int(ref r, wire, field); break;
                case 8: keepFrames = Int(ref r, wire, field); break;
                case 9: profile.TimeNanos = Int(ref r, wire, field); break;
                case 10: profile.DurationNanos = Int(ref r, wire, field); break;
                case 11: periodTypeSpan = Message(ref r, wire, field); break;
                case 12: profile.Period = Int(ref r, wire, field); break;
                case 13: Ints(ref r, wire, field, commentIndices); break;
                case 14: defaultSampleType = Int(ref r, wire, field); break;
                case 15: docUrl = Int(ref r, wire, field); break;
                default: SkipField(ref r, wire, keyOffset); break;
            }
        }

        if (strings.Count == 0 || strings[0].Length != 0)
        {
            throw new MalformedDataException(Format, 0, strings.Count == 0 ? "string table is empty (string_table[0] must be \"\")" : "string_table[0] must be \"\"");
        }
        var table = new StringTable(strings.ToArray());

        // Pass 2: messages, in the order their references need.
        foreach (var (offset, length) in sampleTypeSpans)
        {
            profile.SampleTypes.Add(ReadValueType(data, offset, length, table));
        }
        if (periodTypeSpan is { } pt)
        {
            profile.PeriodType = ReadValueType(data, pt.Offset, pt.Length, table);
        }
        profile.DropFrames = table.Get(dropFrames, 0);
        profile.KeepFrames = table.Get(keepFrames, 0);
        profile.DefaultSampleType = table.Get(defaultSampleType, 0);
        profile.DocUrl = table.Get(docUrl, 0);
        foreach (long c in commentIndices)
        {
            profile.Comments.Add(table.Get(c, 0));
        }

        var functions = new IdTable<Function>("function", functionSpans.Count);
        foreach (var (offset, length) in functionSpans)
        {
            Function f = ReadFunction(data, offset, length, table);
            functions.Add(f.Id, f, offset);
            profile.Functions.Add(f);
        }
        var mappings = new IdTable<Mapping>("mapping", mappingSpans.Count);
        foreach (var (offset, length) in mappingSpans)
        {
            Mapping m = ReadMapping(data, offset, length, table);
            mappings.Add(m.Id, m, offset);
            profile.Mappings.Add(m);
        }
        var locations = new IdTable<Location>("location", locationSpans.Count);
        var lineScratch = new List<Line>();
        foreach (var (offset, length) in locationSpans)
        {
            Location l = ReadLocation(data, offset, length, mappings, functions, lineScratch);
            locations.Add(l.Id, l, offset);
            profile.Locations.Add(l);
        }
        var idScratch = new List<ulong>();
        var valueScratch = new List<long>();
        var labelScratch = new List<Label>();
        foreach (var (offset, length) in sampleSpans)
        {
            profile.Samples.Add(ReadSample(data, offset, length, table, locations, idScratch, valueScratch, labelScratch));
        }
        // Old writers left sample_type out of single-valued CPU profiles; go tool pprof then uses the
        // period type, and so do we.
        if (profile.SampleTypes.Count == 0 && profile.PeriodType is { } period && profile.Samples.Count > 0 && profile.Samples.All(s => s.Values.Length == 1))
        {
            profile.SampleTypes.Add(period);
        }
        return profile;
    }

    private static SampleType ReadValueType(ReadOnlySpan<byte> data, int offset, int length, StringTable table)
    {
        var r = new SpanReader(data.Slice(offset, length), Format, baseOffset: offset);
        long type = 0, unit = 0;
        while (!r.End)
        {
            long keyOffset = r.AbsoluteOffset;
            (int field, int wire) = Key(ref r);
            switch (field)
            {
                case 1: type = Int(ref r, wire, field); break;
                case 2: unit = Int(ref r, wire, field); break;
                default: SkipField(ref r, wire, keyOffset); break;
            }
        }
        return new SampleType(table.Get(type, offset), table.Get(unit, offset));
    }

    private static Function ReadFunction(ReadOnlySpan<byte> data, int offset, int length, StringTable table)
    {
        var r = new SpanReader(data.Slice(offset, length), Format, baseOffset: offset);
        var f = new Function();
        long name = 0, systemName = 0, fileName = 0;
        while (!r.End)
        {
            long keyOffset = r.AbsoluteOffset;
            (int field, int wire) = Key(ref r);
            switch (field)
            {
                case 1: f.Id = (ulong)Int(ref r, wire, field); break;
                case 2: name = Int(ref r, wire, field); break;
                case 3: systemName = Int(ref r, wire, field); break;
                case 4: fileName = Int(ref r, wire, field); break;
                case 5: f.StartLine = Int(ref r, wire, field); break;
                default: SkipField(ref r, wire, keyOffset); break;
            }
        }
        f.Name = table.Get(name, offset);
        f.SystemName = table.Get(systemName, offset);
        f.FileName = table.Get(fileName, offset);
        return f;
    }

    private static Mapping ReadMapping(ReadOnlySpan<byte> data, int offset, int length, StringTable table)
    {
        var r = new SpanReader(data.Slice(offset, length), Format, baseOffset: offset);
        var m = new Mapping();
        long file = 0, buildId = 0;
        while (!r.End)
        {
            long keyOffset = r.AbsoluteOffset;
            (int field, int wire) = Key(ref r);
            switch (field)
            {
                case 1: m.Id = (ulong)Int(ref r, wire, field); break;
                case 2: m.MemoryStart = (ulong)Int(ref r, wire, field); break;
                case 3: m.MemoryLimit = (ulong)Int(ref r, wire, field); break;
                case 4: m.FileOffset = (ulong)Int(ref r, wire, field); break;
                case 5: file = Int(ref r, wire, field); break;
                case 6: buildId = Int(ref r, wire, field); break;
                case 7: m.HasFunctions = Int(ref r, wire, field) != 0; break;
                case 8: m.HasFilenames = Int(ref r, wire, field) != 0; break;
                case 9: m.HasLineNumbers = Int(ref r, wire, field) != 0; break;
                case 10: m.HasInlineFrames = Int(ref r, wire, field) != 0; break;
                default: SkipField(ref r, wire, keyOffset); break;
            }
        }
        m.File = table.Get(file, offset);
        m.BuildId = table.Get(buildId, offset);
        return m;
    }

    private static Location ReadLocation(ReadOnlySpan<byte> data, int offset, int length, IdTable<Mapping> mappings, IdTable<Function> functions, List<Line> lines)
    {
        var r = new SpanReader(data.Slice(offset, length), Format, baseOffset: offset);
        var l = new Location();
        lines.Clear();
        while (!r.End)
        {
            long keyOffset = r.AbsoluteOffset;
            (int field, int wire) = Key(ref r);
            switch (field)
            {
                case 1: l.Id = (ulong)Int(ref r, wire, field); break;
                case 2:
                    {
                        ulong id = (ulong)Int(ref r, wire, field);
                        l.Mapping = id == 0 ? null : mappings.Get(id, keyOffset);
                        break;
                    }
                case 3: l.Address = (ulong)Int(ref r, wire, field); break;
                case 4:
                    {
                        var (lo, ll) = Message(ref r, wire, field);
                        lines.Add(ReadLine(data, lo, ll, functions));
                        break;
                    }
                case 5: l.IsFolded = Int(ref r, wire, field) != 0; break;
                default: SkipField(ref r, wire, keyOffset); break;
            }
        }
        l.Lines = lines.ToArray();
        return l;
    }

    private static Line ReadLine(ReadOnlySpan<byte> data, int offset, int length, IdTable<Function> functions)
    {
        var r = new SpanReader(data.Slice(offset, length), Format, baseOffset: offset);
        Function? function = null;
        long line = 0, column = 0;
        while (!r.End)
        {
            long keyOffset = r.AbsoluteOffset;
            (int field, int wire) = Key(ref r);
            switch (field)
            {
                case 1:
                    {
                        ulong id = (ulong)Int(ref r, wire, field);
                        function = id == 0 ? null : functions.Get(id, keyOffset);
                        break;
                    }
                case 2: line = Int(ref r, wire, field); break;
                case 3: column = Int(ref r, wire, field); break;
                default: SkipField(ref r, wire, keyOffset); break;
            }
        }
        return new Line(function, line, column);
    }

    private static Sample ReadSample(ReadOnlySpan<byte> data, int offset, int length, StringTable table, IdTable<Location> locations,
        List<ulong> ids, List<long> values, List<Label> labels)
    {
        var r = new SpanReader(data.Slice(offset, length), Format, baseOffset: offset);
        ids.Clear();
        values.Clear();
        labels.Clear();
        while (!r.End)
        {
            long keyOffset = r.AbsoluteOffset;
            (int field, int wire) = Key(ref r);
            switch (field)
            {
                case 1: UInts(ref r, wire, field, ids); break;
                case 2: Ints(ref r, wire, field, values); break;
                case 3:
                    {
                        var (lo, ll) = Message(ref r, wire, field);
                        labels.Add(ReadLabel(data, lo, ll, table));
                        break;
                    }
                default: SkipField(ref r, wire, keyOffset); break;
            }
        }
        var stack = new Location[ids.Count];
        for (int i = 0; i < stack.Length; i++)
        {
            stack[i] = locations.Get(ids[i], offset);
        }
        return new Sample { Locations = stack, Values = values.ToArray(), Labels = labels.Count == 0 ? [] : labels.ToArray() };
    }

    private static Label ReadLabel(ReadOnlySpan<byte> data, int offset, int length, StringTable table)
    {
        var r = new SpanReader(data.Slice(offset, length), Format, baseOffset: offset);
        long key = 0, str = 0, num = 0, numUnit = 0;
        while (!r.End)
        {
            long keyOffset = r.AbsoluteOffset;
            (int field, int wire) = Key(ref r);
            switch (field)
            {
                case 1: key = Int(ref r, wire, field); break;
                case 2: str = Int(ref r, wire, field); break;
                case 3: num = Int(ref r, wire, field); break;
                case 4: numUnit = Int(ref r, wire, field); break;
                default: SkipField(ref r, wire, keyOffset); break;
            }
        }
        // A label carries a string or a number; str index 0 ("") means "numeric".
        return new Label(table.Get(key, offset), str != 0 ? table.Get(str, offset) : null, num, numUnit != 0 ? table.Get(numUnit, offset) : null);
    }

    private static (int Field, int Wire) Key(ref SpanReader r)
    {
        long at = r.AbsoluteOffset;
        ulong key = r.ULeb128();
        ulong field = key >> 3;
        if (field == 0 || field > int.MaxValue)
        {
            throw new MalformedDataException(Format, at, $"invalid field number {field}");
        }
        return ((int)field, (int)(key & 7));
    }

    /// <summary>A length-delimited field: returns its span as (absolute offset, length) and skips it.</summary>
    private static (int Offset, int Length) Message(ref SpanReader r, int wire, int field)
    {
        if (wire != 2)
        {
            throw r.Error($"field {field}: wire type {wire}, expected 2 (length-delimited)");
        }
        long at = r.AbsoluteOffset;
        ulong length = r.ULeb128();
        if (length > (ulong)r.Remaining)
        {
            throw new MalformedDataException(Format, at, $"field {field}: length {length} exceeds the {r.Remaining} bytes left");
        }
        int start = checked((int)r.AbsoluteOffset);
        r.Skip((int)length);
        return (start, (int)length);
    }

    private static long Int(ref SpanReader r, int wire, int field)
    {
        switch (wire)
        {
            case 0: return (long)r.ULeb128();
            case 1: return (long)r.U64();
            case 5: return r.U32();
            default: throw r.Error($"field {field}: wire type {wire}, expected an integer");
        }
    }

    private static void Ints(ref SpanReader r, int wire, int field, List<long> into)
    {
        if (wire != 2)
        {
            into.Add(Int(ref r, wire, field));
            return;
        }
        var (offset, length) = Message(ref r, wire, field);
        // Packed: varints back to back. Re-read them through a sub-reader with the same offsets.
        var packed = r.Slice(checked((int)(offset - (r.AbsoluteOffset - r.Position))), length);
        while (!packed.End)
        {
            into.Add((long)packed.ULeb128());
        }
    }

    private static void UInts(ref SpanReader r, int wire, int field, List<ulong> into)
    {
        if (wire != 2)
        {
            into.Add((ulong)Int(ref r, wire, field));
            return;
        }
        var (offset, length) = Message(ref r, wire, field);
        var packed = r.Slice(checked((int)(offset - (r.AbsoluteOffset - r.Position))), length);
        while (!packed.End)
        {
            into.Add(packed.ULeb128());
        }
    }

    private static void SkipField(ref SpanReader r, int wire, long keyOffset)
    {
        switch (wire)
        {
            case 0: r.ULeb128(); break;
            case 1: r.Skip(8); break;
            case 2: Message(ref r, wire, 0); break;
            case 5: r.Skip(4); break;
            default: throw new MalformedDataException(Format, keyOffset, $"unsupported wire type {wire}");
        }
    }

    private sealed class StringTable(string[] strings)
    {
        public string Get(long index, long offset) =>
            (ulong)index < (ulong)strings.Length
                ? strings[index]
                : throw new MalformedDataException(Format, offset, $"string index {index} outside the {strings.Length}-entry string table");
    }

    /// <summary>id -> object; an array when ids are dense (1..n as Go writes them), else a dictionary.</summary>
    private sealed class IdTable<T>(string kind, int capacity) where T : class
    {
        private readonly T?[] _dense = new T?[capacity + 1];
        private Dictionary<ulong, T>? _sparse;

        public void Add(ulong id, T value, long offset)
        {
            if (id == 0)
            {
                throw new MalformedDataException(Format, offset, $"{kind} id 0 (ids must be nonzero)");
            }
            if (id < (ulong)_dense.Length)
            {
                if (_dense[id] is not null)
                {
                    throw new MalformedDataException(Format, offset, $"duplicate {kind} id {id}");
                }
                _dense[id] = value;
                return;
            }
            _sparse ??= [];
            if (!_sparse.TryAdd(id, value))
            {
                throw new MalformedDataException(Format, offset, $"duplicate {kind} id {id}");
            }
        }

        public T Get(ulong id, long offset)
        {
            if (id < (ulong)_dense.Length && _dense[id] is { } v)
            {
                return v;
            }
            if (_sparse is not null && _sparse.TryGetValue(id, out T? s))
            {
                return s;
            }
            throw new MalformedDataException(Format, offset, $"reference to unknown {kind} id {id}");
        }
    }
}
