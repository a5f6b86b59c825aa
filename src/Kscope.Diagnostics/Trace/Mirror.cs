using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Kscope.Formats;

namespace Kscope.Diagnostics.Trace;

/// <summary>Reads a record through its C# mirror (checked against the object's BTF): a short record is a typed error.</summary>
public static class Mirror
{
    public static T Read<T>(ReadOnlySpan<byte> data, string what) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (data.Length < size)
        {
            throw new MalformedDataException(what, data.Length, $"record of {data.Length} bytes, the struct has {size}");
        }
        return MemoryMarshal.Read<T>(data);
    }

    /// <summary>A NUL-terminated string in a fixed buffer (the whole buffer when no NUL).</summary>
    public static unsafe string CString(byte* buffer, int length)
    {
        var bytes = new ReadOnlySpan<byte>(buffer, length);
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
