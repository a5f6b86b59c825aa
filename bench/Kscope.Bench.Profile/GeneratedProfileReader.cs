using Google.Protobuf;
using Kscope.Formats.Pprof;
using Gen = Kscope.Bench.Profile.Generated;

namespace Kscope.Bench.Profile;

/// <summary>
/// The alternative to kscope's span reader: Google.Protobuf generated classes (from Proto/profile.proto),
/// then the pass every consumer needs on top: string indices and ids resolved into kscope's model.
/// </summary>
public static class GeneratedProfileReader
{
    public static Gen.Profile Parse(byte[] raw) => Gen.Profile.Parser.ParseFrom(raw);

    public static Formats.Pprof.Profile ParseAndResolve(byte[] raw)
    {
        Gen.Profile g = Parse(raw);
        string[] s = [.. g.StringTable];
        var p = new Formats.Pprof.Profile { TimeNanos = g.TimeNanos, DurationNanos = g.DurationNanos, Period = g.Period };
        foreach (Gen.ValueType t in g.SampleType)
        {
            p.SampleTypes.Add(new SampleType(s[t.Type], s[t.Unit]));
        }
        var functions = new Dictionary<ulong, Function>(g.Function.Count);
        foreach (Gen.Function f in g.Function)
        {
            var fn = new Function { Id = f.Id, Name = s[f.Name], SystemName = s[f.SystemName], FileName = s[f.Filename], StartLine = f.StartLine };
            functions.Add(f.Id, fn);
            p.Functions.Add(fn);
        }
        var mappings = new Dictionary<ulong, Formats.Pprof.Mapping>(g.Mapping.Count);
        foreach (Gen.Mapping m in g.Mapping)
        {
            var mp = new Formats.Pprof.Mapping { Id = m.Id, MemoryStart = m.MemoryStart, MemoryLimit = m.MemoryLimit, FileOffset = m.FileOffset, File = s[m.Filename], BuildId = s[m.BuildId] };
            mappings.Add(m.Id, mp);
            p.Mappings.Add(mp);
        }
        var locations = new Dictionary<ulong, Formats.Pprof.Location>(g.Location.Count);
        foreach (Gen.Location l in g.Location)
        {
            var lines = new Formats.Pprof.Line[l.Line.Count];
            for (int i = 0; i < lines.Length; i++)
            {
                lines[i] = new Formats.Pprof.Line(l.Line[i].FunctionId == 0 ? null : functions[l.Line[i].FunctionId], l.Line[i].Line_, l.Line[i].Column);
            }
            var loc = new Formats.Pprof.Location { Id = l.Id, Address = l.Address, Mapping = l.MappingId == 0 ? null : mappings[l.MappingId], Lines = lines };
            locations.Add(l.Id, loc);
            p.Locations.Add(loc);
        }
        foreach (Gen.Sample x in g.Sample)
        {
            var stack = new Formats.Pprof.Location[x.LocationId.Count];
            for (int i = 0; i < stack.Length; i++)
            {
                stack[i] = locations[x.LocationId[i]];
            }
            p.Samples.Add(new Sample { Locations = stack, Values = [.. x.Value] });
        }
        return p;
    }
}
