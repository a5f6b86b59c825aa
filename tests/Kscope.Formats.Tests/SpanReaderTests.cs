using Kscope.Formats;

namespace Kscope.Formats.Tests;

public class SpanReaderTests
{
    [Fact]
    public void Take_PastEnd_ThrowsWithOffset()
    {
        byte[] data = [1, 0, 0, 0, 2];
        var e = Assert.Throws<MalformedDataException>(() =>
        {
            var r = new SpanReader(data, "test", baseOffset: 100);
            r.U32();
            r.U32();
        });
        Assert.Equal(104, e.Offset);
    }

    [Fact]
    public void U32_BigEndian_ReadsNetworkOrder()
    {
        byte[] data = [0, 0, 1, 2];
        var r = new SpanReader(data, "test", bigEndian: true);
        Assert.Equal(0x102u, r.U32());
    }

    [Fact]
    public void CString_Unterminated_Throws()
    {
        byte[] data = [(byte)'a', (byte)'b'];
        Assert.Throws<MalformedDataException>(() => new SpanReader(data, "test").CString(0));
    }
}
