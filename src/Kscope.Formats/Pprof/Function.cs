namespace Kscope.Formats.Pprof;

/// <summary>A function (message Function): name, system (mangled) name, source file, start line.</summary>
public sealed class Function
{
    public ulong Id { get; set; }

    public string Name { get; set; } = "";

    public string SystemName { get; set; } = "";

    public string FileName { get; set; } = "";

    public long StartLine { get; set; }

    public override string ToString() => Name;
}
