using System.Buffers.Binary;
using System.Globalization;
using Kscope.Formats.Btf;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;
using BtfTypes = Kscope.Formats.Btf.Btf;
using Kscope.Kernel.Bpf.Asm;

namespace Kscope.Kernel.Bpf.Loader;

/// <summary>
/// Values of <c>__kconfig</c> externs for the running kernel, as libbpf defines them:
/// <c>LINUX_KERNEL_VERSION</c> (KERNEL_VERSION(a, b, c) of the release, c capped at 255),
/// <c>LINUX_HAS_BPF_COOKIE</c> (the kernel has bpf_get_attach_cookie), <c>LINUX_HAS_SYSCALL_WRAPPER</c>
/// (syscalls are reached through __&lt;arch&gt;_sys_* wrappers), and <c>CONFIG_*</c> from /proc/config.gz
/// or /boot/config-RELEASE (y = 1, m = 2 for tristate enums, else 1; n or unset = 0; numbers; quoted strings
/// into char arrays). A strong extern with no value fails the load naming it; a weak one reads as zero.
/// </summary>
public static class KconfigExterns
{
    public static byte[] Resolve(CollectionSpec spec, MapSpec map)
    {
        var value = new byte[map.ValueSize];
        KernelConfig? config = null;
        bool configRead = false;
        foreach (ExternSpec e in spec.Externs)
        {
            Span<byte> at = value.AsSpan((int)e.Offset, (int)e.Size);
            string? text = e.Name switch
            {
                "LINUX_KERNEL_VERSION" => KernelVersionCode().ToString(CultureInfo.InvariantCulture),
                "LINUX_HAS_BPF_COOKIE" => Features.Helper(ProgramType.Kprobe, (int)BpfHelper.GetAttachCookie) == FeatureStatus.Present ? "y" : "n",
                "LINUX_HAS_SYSCALL_WRAPPER" => HasSyscallWrapper() ? "y" : "n",
                _ when e.Name.StartsWith("CONFIG_", StringComparison.Ordinal) => Config(ref config, ref configRead)?[e.Name],
                _ => null,
            };
            if (text is null)
            {
                if (e.Weak || e.Name.StartsWith("CONFIG_", StringComparison.Ordinal) && configRead && config is not null)
                {
                    continue; // weak, or an option the kernel's config does not set (libbpf: 'n')
                }
                throw new NotSupportedException(e.Name.StartsWith("CONFIG_", StringComparison.Ordinal)
                    ? $"kconfig extern '{e.Name}': the kernel's configuration is not readable (/proc/config.gz, /boot/config-RELEASE)"
                    : $"kconfig extern '{e.Name}' is unknown to kscope's loader (declare it __weak to read zero)");
            }
            Write(spec.Btf!, e, text, at);
        }
        return value;
    }

    /// <summary>KERNEL_VERSION(major, minor, patch) of the running kernel (patch capped at 255, as the kernel's macro does).</summary>
    public static uint KernelVersionCode()
    {
        string release = Kscope.Native.Posix.Uname().Release;
        uint[] parts = [0, 0, 0];
        string[] fields = release.Split('.', '-', '+');
        for (int i = 0; i < 3 && i < fields.Length; i++)
        {
            string digits = new(fields[i].TakeWhile(char.IsAsciiDigit).ToArray());
            parts[i] = digits.Length > 0 && uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out uint v) ? v : 0;
        }
        return (parts[0] << 16) | (parts[1] << 8) | Math.Min(parts[2], 255u);
    }

    private static bool HasSyscallWrapper()
    {
        string prefix = Environment.Is64BitProcess && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "__arm64_sys_" : "__x64_sys_";
        return Btf.VmlinuxBtf.Get().FindType(prefix + "bpf", BtfKind.Func) is not null;
    }

    private static KernelConfig? Config(ref KernelConfig? config, ref bool read)
    {
        if (!read)
        {
            config = KernelConfigReader.Read()?.Value;
            read = true;
        }
        return config;
    }

    private static void Write(BtfTypes btf, ExternSpec e, string text, Span<byte> at)
    {
        BtfType type = btf.ResolveType(e.BtfTypeId);
        string where = $"kconfig extern '{e.Name}'";
        if (type.Kind == BtfKind.Array)
        {
            // char[N]: a quoted string, NUL-terminated, truncated to fit
            string s = text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1] : text;
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(s);
            bytes.AsSpan(0, Math.Min(bytes.Length, at.Length - 1)).CopyTo(at);
            return;
        }
        ulong value;
        if (text is "y" or "m" or "n")
        {
            bool tristate = type.Kind is BtfKind.Enum or BtfKind.Enum64;
            value = text switch { "y" => 1UL, "m" => tristate ? 2UL : 1UL, _ => 0UL };
        }
        else if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value)
            : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long signed) && (value = (ulong)signed) == (ulong)signed)
        {
        }
        else
        {
            throw new NotSupportedException($"{where}: value '{text}' does not fit its type");
        }
        switch (at.Length)
        {
            case 1: at[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)value); break;
            case 8: BinaryPrimitives.WriteUInt64LittleEndian(at, value); break;
            default: throw new NotSupportedException($"{where}: {at.Length}-byte variables are not supported");
        }
    }
}
