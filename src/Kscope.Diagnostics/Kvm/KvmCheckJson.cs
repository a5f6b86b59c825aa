using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kscope.Diagnostics.Kvm;

/// <summary>Writes <see cref="KvmCheckReport"/> as JSON (Utf8JsonWriter; schema in docs/kvm.md).</summary>
public static class KvmCheckJson
{
    public const string Schema = "kscope.kvm.check/v1";

    public static void Write(Stream output, KvmCheckReport report)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("schema", Schema);
        w.WriteBoolean("usable", report.Usable);
        w.WriteBoolean("passed", report.AllPassed);
        if (report.Error is not null)
        {
            w.WriteString("error", report.Error);
        }
        w.WriteString("backend", report.Backend);
        w.WriteBoolean("nested", report.Nested);
        w.WriteNumber("api_version", report.ApiVersion);
        w.WriteNumber("vcpu_mmap_size", report.VcpuMmapSize);
        w.WriteNumber("cpuid_leaves", report.CpuidLeaves);
        w.WriteStartArray("capabilities");
        foreach (KvmCapabilityValue c in report.Capabilities)
        {
            w.WriteStartObject();
            w.WriteString("name", c.Name);
            w.WriteNumber("value", c.Value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("self_tests");
        foreach (KvmSelfTest t in report.SelfTests)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteBoolean("passed", t.Passed);
            w.WriteString("detail", t.Detail);
            w.WriteNumber("elapsed_ms", Math.Round(t.Elapsed.TotalMilliseconds, 3));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
