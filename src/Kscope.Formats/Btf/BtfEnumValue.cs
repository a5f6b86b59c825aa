namespace Kscope.Formats.Btf;

/// <summary>
/// One enumerator (struct btf_enum or btf_enum64). <see cref="Value"/> holds the raw 64 bits: read it
/// as signed when the enum's kind_flag says signed (<see cref="BtfType.IsSigned"/>), else as
/// <see cref="UnsignedValue"/>.
/// </summary>
public readonly record struct BtfEnumValue(string Name, long Value)
{
    public ulong UnsignedValue => (ulong)Value;
}
