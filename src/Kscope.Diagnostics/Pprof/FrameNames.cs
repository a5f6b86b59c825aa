using Kscope.Formats.Pprof;

namespace Kscope.Diagnostics.Pprof;

/// <summary>
/// Turns samples into stacks of function names, leaf first, expanding inlined frames (a location's
/// lines are innermost first), as <c>go tool pprof</c> does at function granularity. A location
/// without lines is named by its binary, "[name]", or by its address. Names are interned per
/// location, and every distinct name is one string instance (interned per instance), so stacks can
/// be hashed and compared by reference: cheap on large profiles.
/// </summary>
public sealed class FrameNames
{
    private readonly Dictionary<Location, string[]> _byLocation = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);

    // Locations with small ids (Go and kscope number them 1..n) are cached in an array by id.
    private string[]?[] _byId = [];
    private Location?[] _locationOfId = [];

    public string[] Of(Location location)
    {
        ulong id = location.Id;
        if (id < (ulong)_byId.Length && ReferenceEquals(_locationOfId[id], location))
        {
            return _byId[id]!;
        }
        if (!_byLocation.TryGetValue(location, out string[]? names))
        {
            names = location.Lines.Length == 0
                ? [location.Mapping is { File.Length: > 0 } m ? (m.File.StartsWith('[') ? m.File : $"[{Path.GetFileName(m.File)}]") : $"0x{location.Address:x}"]
                : location.Lines.Select(l => l.Function is { Name.Length: > 0 } f ? f.Name : $"0x{location.Address:x}").ToArray();
            for (int i = 0; i < names.Length; i++)
            {
                if (!_interned.TryGetValue(names[i], out string? same))
                {
                    _interned[names[i]] = same = names[i];
                }
                names[i] = same;
            }
            _byLocation[location] = names;
        }
        if (id < 1 << 20)
        {
            if (id >= (ulong)_byId.Length)
            {
                int size = Math.Max((int)id + 1, _byId.Length * 2);
                Array.Resize(ref _byId, size);
                Array.Resize(ref _locationOfId, size);
            }
            _byId[id] = names;
            _locationOfId[id] = location;
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
