namespace Kscope.Diagnostics.Pprof;

/// <summary>One function of a top table: its own (flat) and inclusive (cum) value.</summary>
public sealed record TopEntry(string Name, long Flat, long Cum);
