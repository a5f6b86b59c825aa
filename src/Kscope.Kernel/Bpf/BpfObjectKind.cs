namespace Kscope.Kernel.Bpf;

using Kscope.Native;

/// <summary>
/// What kind of BPF object an fd is, from its /proc/self/fd link (anon_inode:bpf-map, anon_inode:bpf-prog,
/// anon_inode:bpf_link, anon_inode:btf). BPF_OBJ_GET_INFO_BY_FD answers for any kind, so without this check a
/// program's fd (a pin path of the wrong kind) would be read as a map with the program's info.
/// </summary>
internal static class BpfObjectKind
{
    public const string Map = "bpf-map";
    public const string Program = "bpf-prog";

    /// <summary>Throws EINVAL naming what the fd is when it is not <paramref name="expected"/>; silent when /proc cannot tell.</summary>
    public static void Require(SafeFd fd, string expected, string operation)
    {
        string? target;
        try
        {
            target = new FileInfo($"/proc/self/fd/{fd.Value}").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // no /proc: BPF_OBJ_GET_INFO_BY_FD still refuses what is not a BPF object
        }
        if (target is null)
        {
            return;
        }
        string kind = target.StartsWith("anon_inode:", StringComparison.Ordinal) ? target["anon_inode:".Length..] : target;
        if (kind != expected)
        {
            throw new KernelException($"{operation}: fd {fd.Value} is {kind}, not a {expected}", Errno.EINVAL);
        }
    }
}
