using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kscope.Cli.Tests.Doctor;

/// <summary>
/// Validates a JSON document against the subset of JSON Schema 2020-12 that docs/doctor.md uses:
/// type (incl. arrays of types), const, enum, required, properties, additionalProperties: false,
/// items, minimum, pattern. Returns every violation with its JSON path.
/// </summary>
internal static class MiniJsonSchema
{
    public static List<string> Validate(JsonElement schema, JsonElement value, string path = "$")
    {
        var errors = new List<string>();
        Check(schema, value, path, errors);
        return errors;
    }

    private static void Check(JsonElement s, JsonElement v, string path, List<string> errors)
    {
        foreach (JsonProperty keyword in s.EnumerateObject())
        {
            switch (keyword.Name)
            {
                case "type":
                    string[] types = keyword.Value.ValueKind == JsonValueKind.Array ? keyword.Value.EnumerateArray().Select(t => t.GetString()!).ToArray() : [keyword.Value.GetString()!];
                    if (!types.Any(t => Is(t, v)))
                    {
                        errors.Add($"{path}: {v.ValueKind} is not {string.Join("|", types)}");
                    }
                    break;
                case "const":
                    if (v.ToString() != keyword.Value.ToString() || v.ValueKind != keyword.Value.ValueKind)
                    {
                        errors.Add($"{path}: '{v}' is not the constant '{keyword.Value}'");
                    }
                    break;
                case "enum":
                    if (!keyword.Value.EnumerateArray().Any(e => e.ValueKind == v.ValueKind && e.ToString() == v.ToString()))
                    {
                        errors.Add($"{path}: '{v}' not in {keyword.Value}");
                    }
                    break;
                case "required" when v.ValueKind == JsonValueKind.Object:
                    foreach (JsonElement name in keyword.Value.EnumerateArray())
                    {
                        if (!v.TryGetProperty(name.GetString()!, out _))
                        {
                            errors.Add($"{path}: missing '{name.GetString()}'");
                        }
                    }
                    break;
                case "properties" when v.ValueKind == JsonValueKind.Object:
                    foreach (JsonProperty p in keyword.Value.EnumerateObject())
                    {
                        if (v.TryGetProperty(p.Name, out JsonElement child))
                        {
                            Check(p.Value, child, $"{path}.{p.Name}", errors);
                        }
                    }
                    break;
                case "additionalProperties" when v.ValueKind == JsonValueKind.Object && keyword.Value.ValueKind == JsonValueKind.False:
                    var allowed = s.TryGetProperty("properties", out JsonElement props) ? props.EnumerateObject().Select(p => p.Name).ToHashSet() : [];
                    foreach (JsonProperty p in v.EnumerateObject().Where(p => !allowed.Contains(p.Name)))
                    {
                        errors.Add($"{path}: unexpected member '{p.Name}'");
                    }
                    break;
                case "items" when v.ValueKind == JsonValueKind.Array:
                    int i = 0;
                    foreach (JsonElement item in v.EnumerateArray())
                    {
                        Check(keyword.Value, item, $"{path}[{i++}]", errors);
                    }
                    break;
                case "minimum" when v.ValueKind == JsonValueKind.Number:
                    if (v.GetDouble() < keyword.Value.GetDouble())
                    {
                        errors.Add($"{path}: {v} below minimum {keyword.Value}");
                    }
                    break;
                case "pattern" when v.ValueKind == JsonValueKind.String:
                    if (!Regex.IsMatch(v.GetString()!, keyword.Value.GetString()!))
                    {
                        errors.Add($"{path}: '{v.GetString()}' does not match {keyword.Value.GetString()}");
                    }
                    break;
            }
        }
    }

    private static bool Is(string type, JsonElement v) => type switch
    {
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _),
        "number" => v.ValueKind == JsonValueKind.Number,
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => v.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}
