namespace Kscope.Kernel.Bpf.Loader;

/// <summary>A CO-RE relocation the running kernel's BTF cannot satisfy; the message names the type and field.</summary>
public sealed class CoreRelocationException : Exception
{
    public CoreRelocationException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
