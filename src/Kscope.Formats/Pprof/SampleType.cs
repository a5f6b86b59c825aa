namespace Kscope.Formats.Pprof;

/// <summary>
/// What a sample value measures: message ValueType of profile.proto ("cpu"/"nanoseconds",
/// "alloc_space"/"bytes", "samples"/"count").
/// </summary>
public sealed record SampleType(string Type, string Unit)
{
    public override string ToString() => $"{Type}/{Unit}";
}
