namespace Kscope.Formats.Pprof;

/// <summary>A mapped binary (message Mapping): address range, file offset, file name, build id.</summary>
public sealed class Mapping
{
    public ulong Id { get; set; }

    public ulong MemoryStart { get; set; }

    public ulong MemoryLimit { get; set; }

    public ulong FileOffset { get; set; }

    public string File { get; set; } = "";

    public string BuildId { get; set; } = "";

    public bool HasFunctions { get; set; }

    public bool HasFilenames { get; set; }

    public bool HasLineNumbers { get; set; }

    public bool HasInlineFrames { get; set; }

    public override string ToString() => $"{MemoryStart:x}-{MemoryLimit:x} {File}";
}
