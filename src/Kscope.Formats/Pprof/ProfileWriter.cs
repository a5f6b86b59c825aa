using System.IO.Compression;

namespace Kscope.Formats.Pprof;

/// <summary>
/// Writes a <see cref="Profile"/> as profile.proto, gzipped as <c>go tool pprof</c>, Pyroscope and
/// Parca expect. Mappings, locations and functions are numbered 1..n in list order (the objects'
/// own ids are ignored); samples must reference only objects in the profile's lists.
/// </summary>
public static class ProfileWriter
{
    public static void WriteFile(Profile profile, string path)
    {
        using FileStream file = File.Create(path);
        Write(profile, file);
    }

    /// <summary>Writes gzipped profile.proto to <paramref name="stream"/>.</summary>
    public static void Write(Profile profile, Stream stream, CompressionLevel level = CompressionLevel.Fastest)
    {
        byte[] raw = Encode(profile);
        using var gzip = new GZipStream(stream, level, leaveOpen: true);
        gzip.Write(raw);
    }

    public static byte[] WriteBytes(Profile profile)
    {
        using var ms = new MemoryStream();
        Write(profile, ms);
        return ms.ToArray();
    }

    /// <summary>The uncompressed protobuf bytes.</summary>
    public static byte[] Encode(Profile profile)
    {
        var strings = new Dictionary<string, long>(StringComparer.Ordinal) { [""] = 0 };
        var stringList = new List<string> { "" };
        long S(string? s)
        {
            s ??= "";
            if (!strings.TryGetValue(s, out long i))
            {
                i = stringList.Count;
                strings.Add(s, i);
                stringList.Add(s);
            }
            return i;
        }

        var mappingIds = new Dictionary<Mapping, ulong>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < profile.Mappings.Count; i++)
        {
            mappingIds[profile.Mappings[i]] = (ulong)i + 1;
        }
        var functionIds = new Dictionary<Function, ulong>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < profile.Functions.Count; i++)
        {
            functionIds[profile.Functions[i]] = (ulong)i + 1;
        }
        var locationIds = new Dictionary<Location, ulong>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < profile.Locations.Count; i++)
        {
            locationIds[profile.Locations[i]] = (ulong)i + 1;
        }

        var w = new ProtoWriter();
        var msg = new ProtoWriter();
        var inner = new ProtoWriter();
        var scratch = new ProtoWriter();

        foreach (SampleType t in profile.SampleTypes)
        {
            msg.Clear();
            msg.Int(1, S(t.Type));
            msg.Int(2, S(t.Unit));
            w.Bytes(1, msg.Written);
        }

        ulong[] ids = [];
        foreach (Sample sample in profile.Samples)
        {
            msg.Clear();
            if (ids.Length < sample.Locations.Length)
            {
                ids = new ulong[sample.Locations.Length];
            }
            for (int i = 0; i < sample.Locations.Length; i++)
            {
                ids[i] = locationIds.TryGetValue(sample.Locations[i], out ulong id)
                    ? id
                    : throw new InvalidOperationException($"sample references location {sample.Locations[i]} that is not in Profile.Locations");
            }
            msg.Packed(1, ids.AsSpan(0, sample.Locations.Length), scratch);
            msg.Packed(2, sample.Values, scratch);
            foreach (Label label in sample.Labels)
            {
                inner.Clear();
                inner.Int(1, S(label.Key));
                if (label.Str is not null)
                {
                    inner.Int(2, S(label.Str));
                }
                inner.Int(3, label.Num);
                if (label.NumUnit is not null)
                {
                    inner.Int(4, S(label.NumUnit));
                }
                msg.Bytes(3, inner.Written);
            }
            w.Bytes(2, msg.Written);
        }

        for (int i = 0; i < profile.Mappings.Count; i++)
        {
            Mapping m = profile.Mappings[i];
            msg.Clear();
            msg.Int(1, i + 1);
            msg.Int(2, (long)m.MemoryStart);
            msg.Int(3, (long)m.MemoryLimit);
            msg.Int(4, (long)m.FileOffset);
            msg.Int(5, S(m.File));
            msg.Int(6, S(m.BuildId));
            msg.Bool(7, m.HasFunctions);
            msg.Bool(8, m.HasFilenames);
            msg.Bool(9, m.HasLineNumbers);
            msg.Bool(10, m.HasInlineFrames);
            w.Bytes(3, msg.Written);
        }

        for (int i = 0; i < profile.Locations.Count; i++)
        {
            Location l = profile.Locations[i];
            msg.Clear();
            msg.Int(1, i + 1);
            if (l.Mapping is not null)
            {
                msg.Int(2, mappingIds.TryGetValue(l.Mapping, out ulong mid)
                    ? (long)mid
                    : throw new InvalidOperationException($"location {l} references a mapping that is not in Profile.Mappings"));
            }
            msg.Int(3, (long)l.Address);
            foreach (Line line in l.Lines)
            {
                inner.Clear();
                if (line.Function is not null)
                {
                    inner.Int(1, functionIds.TryGetValue(line.Function, out ulong fid)
                        ? (long)fid
                        : throw new InvalidOperationException($"location {l} references function {line.Function} that is not in Profile.Functions"));
                }
                inner.Int(2, line.Number);
                inner.Int(3, line.Column);
                msg.Bytes(4, inner.Written);
            }
            msg.Bool(5, l.IsFolded);
            w.Bytes(4, msg.Written);
        }

        for (int i = 0; i < profile.Functions.Count; i++)
        {
            Function f = profile.Functions[i];
            msg.Clear();
            msg.Int(1, i + 1);
            msg.Int(2, S(f.Name));
            msg.Int(3, S(f.SystemName));
            msg.Int(4, S(f.FileName));
            msg.Int(5, f.StartLine);
            w.Bytes(5, msg.Written);
        }

        // Everything below may add strings, so resolve them before writing the table.
        long dropFrames = S(profile.DropFrames);
        long keepFrames = S(profile.KeepFrames);
        long periodType = 0, periodUnit = 0;
        if (profile.PeriodType is { } pt)
        {
            periodType = S(pt.Type);
            periodUnit = S(pt.Unit);
        }
        long[] comments = profile.Comments.Select(S).ToArray();
        long defaultSampleType = S(profile.DefaultSampleType);
        long docUrl = S(profile.DocUrl);

        foreach (string s in stringList)
        {
            w.String(6, s);
        }
        w.Int(7, dropFrames);
        w.Int(8, keepFrames);
        w.Int(9, profile.TimeNanos);
        w.Int(10, profile.DurationNanos);
        if (profile.PeriodType is not null)
        {
            msg.Clear();
            msg.Int(1, periodType);
            msg.Int(2, periodUnit);
            w.Bytes(11, msg.Written);
        }
        w.Int(12, profile.Period);
        w.Packed(13, comments, scratch);
        w.Int(14, defaultSampleType);
        w.Int(15, docUrl);
        return w.Written.ToArray();
    }
}
