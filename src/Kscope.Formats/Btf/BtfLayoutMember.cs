namespace Kscope.Formats.Btf;

/// <summary>
/// A member as pahole shows it. Offsets are from the start of the outermost type. For bitfields,
/// <see cref="ByteOffset"/> and <see cref="Size"/> are the storage unit (the member's integer type,
/// aligned down) and <see cref="BitPosition"/> the bit inside it. <see cref="HoleAfter"/> and
/// <see cref="BitHoleAfter"/> are the unused bytes/bits before the next member. <see cref="Nested"/>
/// is the expanded layout of an anonymous struct/union member (or one whose type is unnamed).
/// </summary>
public sealed record BtfLayoutMember(
    string Name,
    int TypeId,
    long BitOffset,
    long ByteOffset,
    long Size,
    uint BitfieldSize,
    uint BitPosition,
    long HoleAfter,
    long BitHoleAfter,
    BtfLayout? Nested)
{
    public bool IsBitfield => BitfieldSize != 0;
}
