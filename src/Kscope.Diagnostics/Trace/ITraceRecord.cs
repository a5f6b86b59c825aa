namespace Kscope.Diagnostics.Trace;

/// <summary>A decoded gadget record: its fields in the order of the gadget's columns and JSON schema.</summary>
public interface ITraceRecord
{
    /// <summary>CLOCK_MONOTONIC nanoseconds of the event (0 for aggregates).</summary>
    ulong TimestampNs { get; }

    IReadOnlyList<TraceField> Fields();
}
