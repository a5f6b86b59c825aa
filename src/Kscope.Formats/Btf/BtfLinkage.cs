namespace Kscope.Formats.Btf;

/// <summary>Linkage of a FUNC (vlen) or VAR (btf_var.linkage).</summary>
public enum BtfLinkage : uint
{
    Static = 0,
    Global = 1,
    Extern = 2,
}
