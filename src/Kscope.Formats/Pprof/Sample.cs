namespace Kscope.Formats.Pprof;

/// <summary>
/// One sample (message Sample): a stack (leaf first), one value per <see cref="Profile.SampleTypes"/>
/// entry, and labels.
/// </summary>
public sealed class Sample
{
    public Location[] Locations { get; set; } = [];

    public long[] Values { get; set; } = [];

    public Label[] Labels { get; set; } = [];
}
