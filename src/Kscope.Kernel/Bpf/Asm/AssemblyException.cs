namespace Kscope.Kernel.Bpf.Asm;

/// <summary>An instruction list that cannot be linked or encoded (unknown label, jump out of range).</summary>
public sealed class AssemblyException : Exception
{
    public AssemblyException(string message) : base(message)
    {
    }
}
