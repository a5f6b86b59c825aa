namespace Kscope.Formats.Btf;

/// <summary>struct btf_array: element type, index type, element count.</summary>
public readonly record struct BtfArrayInfo(int ElementTypeId, int IndexTypeId, uint Count);
