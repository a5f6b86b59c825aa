namespace Kscope.Formats.Pprof;

/// <summary>
/// A pprof profile (message Profile of github.com/google/pprof proto/profile.proto), with string
/// table indices and ids resolved to strings and object references. Read it with
/// <see cref="ProfileReader"/>, write it with <see cref="ProfileWriter"/>.
/// </summary>
public sealed class Profile
{
    public List<SampleType> SampleTypes { get; } = [];

    public List<Sample> Samples { get; } = [];

    public List<Mapping> Mappings { get; } = [];

    public List<Location> Locations { get; } = [];

    public List<Function> Functions { get; } = [];

    /// <summary>Free-form comments (field 13).</summary>
    public List<string> Comments { get; } = [];

    /// <summary>Regex of frames to drop from the leaf end (field 7), or "".</summary>
    public string DropFrames { get; set; } = "";

    /// <summary>Regex of frames to keep despite <see cref="DropFrames"/> (field 8), or "".</summary>
    public string KeepFrames { get; set; } = "";

    /// <summary>Collection time, nanoseconds since the Unix epoch (field 9).</summary>
    public long TimeNanos { get; set; }

    /// <summary>Collection duration (field 10).</summary>
    public long DurationNanos { get; set; }

    /// <summary>The kind of events between samples (field 11), e.g. cpu/nanoseconds.</summary>
    public SampleType? PeriodType { get; set; }

    /// <summary>The number of events between samples (field 12), e.g. 10000000 ns at 100 Hz.</summary>
    public long Period { get; set; }

    /// <summary>The sample type shown by default (field 14), or "" (then the last one).</summary>
    public string DefaultSampleType { get; set; } = "";

    /// <summary>Documentation link (field 15), or "".</summary>
    public string DocUrl { get; set; } = "";

    /// <summary>
    /// The index into <see cref="SampleTypes"/> a tool shows by default: the one named by
    /// <see cref="DefaultSampleType"/>, else the last (as go tool pprof does).
    /// </summary>
    public int DefaultSampleIndex
    {
        get
        {
            if (DefaultSampleType.Length > 0)
            {
                int i = SampleTypes.FindIndex(t => t.Type == DefaultSampleType);
                if (i >= 0)
                {
                    return i;
                }
            }
            return Math.Max(0, SampleTypes.Count - 1);
        }
    }

    /// <summary>Finds a sample type by its type name ("cpu", "alloc_space"…) or by index; -1 if absent.</summary>
    public int SampleIndex(string nameOrIndex)
    {
        int i = SampleTypes.FindIndex(t => string.Equals(t.Type, nameOrIndex, StringComparison.OrdinalIgnoreCase));
        if (i >= 0)
        {
            return i;
        }
        return int.TryParse(nameOrIndex, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= 0 && n < SampleTypes.Count ? n : -1;
    }
}
