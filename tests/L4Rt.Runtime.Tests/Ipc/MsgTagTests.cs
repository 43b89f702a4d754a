using L4Rt.Ipc;

namespace L4Rt.Tests.Ipc;

public class MsgTagTests
{
    [Theory]
    [InlineData(0, 0, 0, MsgTagFlags.None)]
    [InlineData(1, 63, 0, MsgTagFlags.None)]
    [InlineData(-1, 1, 31, MsgTagFlags.Error)]
    [InlineData(int.MaxValue, 3, 30, MsgTagFlags.Grant)]
    [InlineData(int.MinValue, 61, 1, MsgTagFlags.Error | MsgTagFlags.Grant)]
    public void Encode_ThenDecode_RoundTrips(int protocol, int words, int items, MsgTagFlags flags)
    {
        MsgTag tag = new(protocol, words, items, flags);
        Assert.True(MsgTag.TryDecode(tag.Raw, out MsgTag decoded));
        Assert.Equal(tag, decoded);
        Assert.Equal(protocol, decoded.Protocol);
        Assert.Equal(words, decoded.Words);
        Assert.Equal(items, decoded.Items);
        Assert.Equal(flags, decoded.Flags);
    }

    [Theory]
    [InlineData(64, 0)]
    [InlineData(-1, 0)]
    [InlineData(0, 32)]
    [InlineData(62, 1)]
    [InlineData(0, -1)]
    public void Constructor_WordsAndItemsBeyondUtcb_Throws(int words, int items) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new MsgTag(1, words, items));

    [Theory]
    [InlineData(0x40UL)]          // 64 words
    [InlineData(0x7FUL)]          // 127 words
    [InlineData(0x80UL)]          // reserved bit 7
    [InlineData(0x2000UL)]        // 32 items
    [InlineData(0x0100UL | 62)]   // 62 words + 1 item = 64 registers
    [InlineData(0x8000UL)]        // reserved bit 15
    public void TryDecode_OutOfRangeRaw_Fails(ulong raw) => Assert.False(MsgTag.TryDecode(raw, out _));

    [Fact]
    public void TryDecode_AnyRandomRaw_NeverYieldsATagBeyondTheUtcb()
    {
        Random random = new(1234);
        for (int i = 0; i < 100_000; i++)
        {
            ulong raw = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40);
            if (MsgTag.TryDecode(raw, out MsgTag tag))
            {
                Assert.InRange(tag.Words + (tag.Items * MsgTag.WordsPerItem), 0, MsgTag.MaxWords);
            }
        }
    }
}
