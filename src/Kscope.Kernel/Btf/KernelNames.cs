using System.Text;

namespace Kscope.Kernel.Btf;

/// <summary>The naming rule of [KernelField]: PascalCase managed names become the kernel's snake_case.</summary>
public static class KernelNames
{
    /// <summary>"ExitReason" -> "exit_reason", "Cr0" -> "cr0", "ApicBase" -> "apic_base", "IOPort" -> "io_port".</summary>
    public static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool afterLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                bool acronymEnd = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if ((afterLowerOrDigit || acronymEnd) && sb.Length > 0 && sb[^1] != '_')
                {
                    sb.Append('_');
                }
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
