namespace Kscope.Diagnostics.Trace;

/// <summary>
/// One named value of a trace record, in display order. Values are long, ulong, int, uint, double,
/// bool, string, string[] or null; the column and JSON writers switch on them (no reflection).
/// </summary>
public readonly record struct TraceField(string Name, object? Value);
