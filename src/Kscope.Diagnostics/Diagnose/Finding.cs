namespace Kscope.Diagnostics.Diagnose;

public enum Severity
{
    Info,
    Warning,
    Critical,
}

/// <summary>
/// One conclusion of a rule, in the shape every kscope finding shares (ARCHITECTURE.md): a stable snake_case
/// <see cref="Kind"/>, a <see cref="Severity"/>, a one-line <see cref="Title"/>, the <see cref="Evidence"/> (numbers
/// with their units in the keys) and one concrete change to make (<see cref="Advice"/>). <see cref="LostNs"/> is the
/// time it accounts for in the window (findings are ranked by it), over [<see cref="StartNs"/>, <see cref="EndNs"/>].
/// </summary>
public sealed record Finding(string Kind, Severity Severity, string Title, IReadOnlyList<EvidenceItem> Evidence, string Advice)
{
    public double LostNs { get; init; }

    public ulong StartNs { get; init; }

    public ulong EndNs { get; init; }

    public object? Get(string key) => Evidence.FirstOrDefault(e => e.Key == key)?.Value;

    public static string Name(Severity s) => s switch
    {
        Severity.Info => "info",
        Severity.Warning => "warning",
        _ => "critical",
    };
}

/// <summary>One number (long, double), string, bool or null of a finding's evidence; the unit is in the key.</summary>
public sealed record EvidenceItem(string Key, object? Value);
