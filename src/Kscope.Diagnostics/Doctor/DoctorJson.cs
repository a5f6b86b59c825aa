using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kscope.Diagnostics.Doctor;

/// <summary>
/// Writes doctor's report as JSON with Utf8JsonWriter (trim-safe, no reflection). The schema is
/// documented in docs/doctor.md and versioned by the "schema" member: fields are only ever added (v2: snake_case keys, docs/json.md).
/// </summary>
public static class DoctorJson
{
    public const string Schema = "kscope.doctor/v2";

    public static void Write(Stream output, IReadOnlyList<CheckResult> results, int? pid, string kscopeVersion, string kernelRelease, DateTimeOffset generatedAt)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("schema", Schema);
        w.WriteString("kscope_version", kscopeVersion);
        w.WriteString("generated_at", generatedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteString("kernel_release", kernelRelease);
        w.WriteStartObject("target");
        if (pid is int p)
        {
            w.WriteNumber("pid", p);
        }
        else
        {
            w.WriteNull("pid");
        }
        w.WriteBoolean("self", pid is null);
        w.WriteEndObject();
        w.WriteString("status", Name(Doctor.Worst(results)));
        w.WriteStartObject("summary");
        foreach (CheckStatus s in new[] { CheckStatus.Ok, CheckStatus.Warn, CheckStatus.Fail, CheckStatus.Skip })
        {
            w.WriteNumber(Name(s), results.Count(r => r.Status == s));
        }
        w.WriteEndObject();
        w.WriteStartArray("checks");
        foreach (CheckResult r in results)
        {
            w.WriteStartObject();
            w.WriteString("id", r.Id);
            w.WriteString("section", Name(r.Section));
            w.WriteString("title", r.Title);
            w.WriteString("status", Name(r.Status));
            w.WriteString("value", r.Value);
            w.WriteString("evidence", r.Evidence);
            if (r.Fix is null)
            {
                w.WriteNull("fix");
            }
            else
            {
                w.WriteString("fix", r.Fix);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static string Name(CheckStatus s) => s switch
    {
        CheckStatus.Ok => "ok",
        CheckStatus.Warn => "warn",
        CheckStatus.Fail => "fail",
        _ => "skip",
    };

    public static string Name(DoctorSection s) => s switch
    {
        DoctorSection.Kernel => "kernel",
        DoctorSection.Limits => "limits",
        DoctorSection.Security => "security",
        _ => "toolchains",
    };
}
