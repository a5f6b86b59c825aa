namespace Kscope.Formats.Btf;

/// <summary>A DATASEC entry (struct btf_var_secinfo): a VAR (or FUNC) and where it lives in the section.</summary>
public readonly record struct BtfVarSecInfo(int TypeId, uint Offset, uint Size);
