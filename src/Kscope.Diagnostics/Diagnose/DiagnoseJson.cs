using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>
/// findings.json (and <c>kscope diagnose --json</c>), schema <c>kscope.diagnose/v1</c>, documented in docs/diagnose.md:
/// written with Utf8JsonWriter (trim and AOT safe). Members are only ever added within v1.
/// </summary>
public static class DiagnoseJson
{
    public const string Schema = "kscope.diagnose/v1";

    public static void Write(Stream output, Diagnosis d, string kscopeVersion, DateTimeOffset generatedAt, IReadOnlyList<string> files)
    {
        CaptureResult capture = d.Context.Capture;
        Timeline t = capture.Timeline;
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("schema", Schema);
        w.WriteString("kscope_version", kscopeVersion);
        w.WriteString("generated_at", Rfc3339(generatedAt));
        w.WriteStartObject("target");
        w.WriteString("description", capture.Target.Description);
        w.WriteStartArray("pids");
        foreach (int pid in capture.Target.Pids)
        {
            w.WriteNumberValue(pid);
        }
        w.WriteEndArray();
        Nullable(w, "cgroup", capture.Target.CgroupDirectory);
        Nullable(w, "cpu_cgroup", capture.Target.Cpu?.Directory);
        Nullable(w, "quota_cgroup", capture.Target.QuotaCgroup?.Directory);
        w.WriteEndObject();
        w.WriteStartObject("window");
        w.WriteNumber("start_time_ns", t.StartNs);
        w.WriteNumber("end_time_ns", t.EndNs);
        w.WriteNumber("duration_ns", t.DurationNs);
        w.WriteString("start_realtime", Rfc3339(t.Start.Realtime));
        w.WriteString("end_realtime", Rfc3339(t.End?.Realtime ?? t.Start.ToRealtime(t.EndNs)));
        w.WriteNumber("realtime_offset_start_ns", t.Start.RealtimeOffsetNs);
        w.WriteNumber("realtime_offset_end_ns", (t.End ?? t.Start).RealtimeOffsetNs);
        w.WriteString("ended_by", capture.EndedBy);
        w.WriteNumber("stop_ns", (long)capture.StopLatency.TotalNanoseconds);
        w.WriteEndObject();
        w.WriteString("status", d.Healthy ? "no_problem_found" : "problems_found");
        Nullable(w, "worst_severity", d.Worst is Severity s ? Finding.Name(s) : null);
        w.WriteStartArray("findings");
        foreach (Finding f in d.Findings)
        {
            w.WriteStartObject();
            w.WriteString("kind", f.Kind);
            w.WriteString("severity", Finding.Name(f.Severity));
            w.WriteString("title", f.Title);
            Evidence(w, "evidence", f.Evidence);
            w.WriteString("advice", f.Advice);
            w.WriteNumber("lost_ns", (long)f.LostNs);
            w.WriteNumber("lost_share", Math.Round(d.LostShare(f), 4));
            w.WriteNumber("start_time_ns", f.StartNs);
            w.WriteNumber("end_time_ns", f.EndNs);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Evidence(w, "summary", d.Summary);
        w.WriteStartArray("sources");
        foreach (SourceStatus src in capture.Sources)
        {
            w.WriteStartObject();
            w.WriteString("name", src.Name);
            w.WriteString("status", src.Status);
            Nullable(w, "detail", src.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("counters");
        foreach (CounterSeries c in t.Series)
        {
            w.WriteStartObject();
            w.WriteString("scope", c.Scope);
            w.WriteString("name", c.Name);
            w.WriteNumber("samples", c.Points.Count);
            NullableNumber(w, "first", c.First?.Value);
            NullableNumber(w, "last", c.Last?.Value);
            NullableNumber(w, "delta", c.Delta);
            w.WriteNumber("dropped", c.Dropped);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteEvents(w, t.Events);
        w.WriteStartObject("drops");
        w.WriteNumber("events", t.DroppedEvents);
        w.WriteNumber("intervals", t.DroppedIntervals);
        w.WriteNumber("counter_points", t.DroppedPoints);
        w.WriteNumber("counter_series", t.DroppedSeries);
        w.WriteNumber("counter_read_errors", capture.Counters.ReadErrors);
        w.WriteNumber("threads_skipped", capture.Counters.ThreadsSkipped);
        w.WriteNumber("cpu_samples_lost", capture.Sampler?.Lost ?? 0);
        w.WriteNumber("gadget_records_lost", capture.GadgetRecordsLost);
        w.WriteEndObject();
        w.WriteNumber("cpu_samples", capture.Sampler?.Samples ?? 0);
        w.WriteStartArray("files");
        foreach (string f in files)
        {
            w.WriteStringValue(f);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The timeline's point events listed in findings.json, earliest first; the rest are counted in <c>events.not_listed</c>.</summary>
    public const int MaxListedEvents = 200;

    private static void WriteEvents(Utf8JsonWriter w, IReadOnlyList<TimelineEvent> events)
    {
        w.WriteStartObject("events");
        w.WriteNumber("total", events.Count);
        w.WriteStartObject("by_kind");
        foreach (IGrouping<string, TimelineEvent> g in events.GroupBy(e => e.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            w.WriteNumber(g.Key, g.Count());
        }
        w.WriteEndObject();
        w.WriteStartArray("first");
        foreach (TimelineEvent e in events.OrderBy(e => e.TimeNs).Take(MaxListedEvents))
        {
            w.WriteStartObject();
            w.WriteNumber("time_ns", e.TimeNs);
            w.WriteNumber("pid", e.Pid);
            w.WriteNumber("tid", e.Tid);
            w.WriteNumber("ns_pid", e.NsPid);
            w.WriteString("kind", e.Kind);
            Nullable(w, "payload", e.Payload);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("not_listed", Math.Max(0, events.Count - MaxListedEvents));
        w.WriteEndObject();
    }

    private static void Evidence(Utf8JsonWriter w, string name, IReadOnlyList<EvidenceItem> items)
    {
        w.WriteStartObject(name);
        foreach (EvidenceItem e in items)
        {
            switch (e.Value)
            {
                case null: w.WriteNull(e.Key); break;
                case string s: w.WriteString(e.Key, s); break;
                case bool b: w.WriteBoolean(e.Key, b); break;
                case int i: w.WriteNumber(e.Key, i); break;
                case long l: w.WriteNumber(e.Key, l); break;
                case double dbl: w.WriteNumber(e.Key, dbl); break;
                default: w.WriteString(e.Key, Convert.ToString(e.Value, CultureInfo.InvariantCulture)); break;
            }
        }
        w.WriteEndObject();
    }

    private static void Nullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void NullableNumber(Utf8JsonWriter w, string name, double? value)
    {
        if (value is double v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string Rfc3339(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
