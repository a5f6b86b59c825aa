namespace Kscope.Diagnostics.Pprof;

/// <summary>One function in a diff: flat and cum in the base and in the new profile.</summary>
public sealed record DiffEntry(string Name, long BaseFlat, long NewFlat, long BaseCum, long NewCum)
{
    public long FlatDelta => NewFlat - BaseFlat;

    public long CumDelta => NewCum - BaseCum;
}
