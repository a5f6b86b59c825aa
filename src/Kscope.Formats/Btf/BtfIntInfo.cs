namespace Kscope.Formats.Btf;

/// <summary>The u32 after an INT type: encoding, bit offset, bit count.</summary>
public readonly record struct BtfIntInfo(BtfIntEncoding Encoding, byte BitOffset, byte Bits)
{
    public bool IsSigned => (Encoding & BtfIntEncoding.Signed) != 0;
}
