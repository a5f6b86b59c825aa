namespace Kscope.Formats.Pprof;

/// <summary>
/// A code address (message Location) with its mapping and its source lines, innermost first
/// (several when calls were inlined).
/// </summary>
public sealed class Location
{
    public ulong Id { get; set; }

    public Mapping? Mapping { get; set; }

    public ulong Address { get; set; }

    public Line[] Lines { get; set; } = [];

    public bool IsFolded { get; set; }

    public override string ToString() =>
        Lines.Length > 0 ? string.Join(" <- ", Lines.Select(l => l.Function?.Name ?? "?")) : $"0x{Address:x}";
}
