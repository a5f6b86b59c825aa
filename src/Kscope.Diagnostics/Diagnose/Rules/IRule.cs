namespace Kscope.Diagnostics.Diagnose.Rules;

/// <summary>A rule reads the capture and emits findings with evidence; no evidence, no finding.</summary>
public interface IRule
{
    /// <summary>The finding kind it emits (stable snake_case id).</summary>
    string Kind { get; }

    IEnumerable<Finding> Evaluate(DiagnoseContext context);
}
