namespace Kscope.Formats.Pprof;

/// <summary>
/// A sample label (message Label): a string value (<see cref="Str"/> non-null) or a number with an
/// optional unit.
/// </summary>
public sealed record Label(string Key, string? Str, long Num = 0, string? NumUnit = null);
