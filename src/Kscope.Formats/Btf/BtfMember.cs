namespace Kscope.Formats.Btf;

/// <summary>
/// A struct or union member (struct btf_member). <see cref="BitOffset"/> is from the start of the
/// enclosing type; <see cref="BitfieldSize"/> is non-zero for bitfields (kind_flag encoding, or
/// an INT whose bit count is smaller than its size, resolved by <see cref="BtfLayout"/>).
/// An empty <see cref="Name"/> is an anonymous struct/union member.
/// </summary>
public readonly record struct BtfMember(string Name, int TypeId, uint BitOffset, uint BitfieldSize)
{
    public uint ByteOffset => BitOffset / 8;

    public bool IsBitfield => BitfieldSize != 0;
}
