namespace Kscope.Formats.Go;

/// <summary>A function of a Go binary's pclntab: name and [Entry, End) address range.</summary>
public readonly record struct GoFunction(string Name, ulong Entry, ulong End);
