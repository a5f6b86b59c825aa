namespace Kscope.Diagnostics.Symbols;

/// <summary>One frame for an address: function, file:line when known (Go pclntab), symbol offset, inlined or not.</summary>
public sealed record SymbolizedFrame(ulong Address, string Function, string? File, int Line, ulong Offset, bool Inlined)
{
    public override string ToString() =>
        File is not null ? $"{Function} {File}:{Line}{(Inlined ? " (inlined)" : "")}" : Offset == 0 ? Function : $"{Function}+0x{Offset:x}";
}
