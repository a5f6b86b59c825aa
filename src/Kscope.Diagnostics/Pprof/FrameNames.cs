using Kscope.Formats.Pprof;

namespace Kscope.Diagnostics.Pprof;

/// <summary>
/// Turns samples into stacks of function names, leaf first, expanding inlined frames (a location's
/// lines are innermost first), as <c>go tool pprof</c> does at function granularity. A location
/// without lines is named by its binary, "[name]", or by its address. Names are interned per
/// location, so this is cheap on large profiles.
/// </summary>
public sealed class FrameNames
{
    private readonly Dictionary<Location, string[]> _byLocation = new(ReferenceEqualityComparer.Instance);

    public string[] Of(Location location)
    {
        if (!_byLocation.TryGetValue(location, out string[]? names))
        {
            names = location.Lines.Length == 0
                ? [location.Mapping is { File.Length: > 0 } m ? (m.File.StartsWith('[') ? m.File : $"[{Path.GetFileName(m.File)}]") : $"0x{location.Address:x}"]
                : location.Lines.Select(l => l.Function is { Name.Length: > 0 } f ? f.Name : $"0x{location.Address:x}").ToArray();
            _byLocation[location] = names;
        }
        return names;
    }

    /// <summary>The sample's frames, leaf first, into <paramref name="into"/> (cleared first).</summary>
    public void Stack(Sample sample, List<string> into)
    {
        into.Clear();
        foreach (Location l in sample.Locations)
        {
            into.AddRange(Of(l));
        }
    }
}
