using System.Runtime.CompilerServices;
using L4Rt.Memory;

namespace L4Rt.Tests.Memory;

/// <summary>The shared layouts are a cross-process ABI: every offset is pinned here.</summary>
public class LayoutTests
{
    private static int Offset<TStruct, TField>(ref TStruct s, ref TField f) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref s), ref Unsafe.As<TField, byte>(ref f));

    [Fact]
    public void ChannelLayout_Offsets_MatchTheDocumentedDiagram()
    {
        ChannelLayout l = default;
        Assert.Equal(0, Offset(ref l, ref l.Magic));
        Assert.Equal(4, Offset(ref l, ref l.Version));
        Assert.Equal(8, Offset(ref l, ref l.Capacity));
        Assert.Equal(16, Offset(ref l, ref l.ProducerFences));
        Assert.Equal(20, Offset(ref l, ref l.ConsumerFences));
        Assert.Equal(24, Offset(ref l, ref l.ProducerCpu));
        Assert.Equal(28, Offset(ref l, ref l.ConsumerCpu));
        Assert.Equal(64, Offset(ref l, ref l.Tail));
        Assert.Equal(72, Offset(ref l, ref l.DataWake));
        Assert.Equal(76, Offset(ref l, ref l.ConsumerWaiting));
        Assert.Equal(80, Offset(ref l, ref l.ProducerDead));
        Assert.Equal(88, Offset(ref l, ref l.ConsumerAsleepSince));
        Assert.Equal(128, Offset(ref l, ref l.Head));
        Assert.Equal(136, Offset(ref l, ref l.SpaceWake));
        Assert.Equal(140, Offset(ref l, ref l.ProducerWaiting));
        Assert.Equal(144, Offset(ref l, ref l.ConsumerDead));
        Assert.Equal(152, Offset(ref l, ref l.ProducerAsleepSince));
        Assert.Equal(192, Unsafe.SizeOf<ChannelLayout>());
    }

    [Fact]
    public void LinkLayout_Offsets_MatchTheDocumentedDiagram()
    {
        LinkLayout l = default;
        Assert.Equal(0, Offset(ref l, ref l.Magic));
        Assert.Equal(4, Offset(ref l, ref l.Version));
        Assert.Equal(8, Offset(ref l, ref l.HintIndex));
        Assert.Equal(12, Offset(ref l, ref l.SenderWake));
        Assert.Equal(16, Offset(ref l, ref l.SenderDead));
        Assert.Equal(20, Offset(ref l, ref l.ReceiverDead));
        Assert.Equal(24, Offset(ref l, ref l.CallReceiveTimeout));
        Assert.Equal(32, Offset(ref l, ref l.SenderWaiting));
        Assert.Equal(36, Offset(ref l, ref l.ReceiverWatching));
        Assert.Equal(64, Offset(ref l, ref l.State));
        Assert.Equal(72, Offset(ref l, ref l.RequestTag));
        Assert.Equal(80, Offset(ref l, ref l.RequestInline[0]));
        Assert.Equal(120, Offset(ref l, ref l.RequestInline[5]));
        Assert.Equal(128, Offset(ref l, ref l.ReplyState));
        Assert.Equal(136, Offset(ref l, ref l.ReplyTag));
        Assert.Equal(144, Offset(ref l, ref l.ReplyInline[0]));
        Assert.Equal(184, Offset(ref l, ref l.ReplyInline[5]));
        Assert.Equal(256, Offset(ref l, ref l.RequestMr[0]));
        Assert.Equal(256 + (62 * 8), Offset(ref l, ref l.RequestMr[62]));
        Assert.Equal(768, Offset(ref l, ref l.ReplyMr[0]));
        Assert.Equal(768 + (62 * 8), Offset(ref l, ref l.ReplyMr[62]));
        Assert.Equal(1272, Unsafe.SizeOf<LinkLayout>());
        Assert.True(Unsafe.SizeOf<LinkLayout>() <= LinkLayout.RegionSize);
        Assert.Equal(504, Unsafe.SizeOf<MessageWords>());
        Assert.Equal(48, Unsafe.SizeOf<ShortWords>());
    }

    [Fact]
    public void DoorbellLayout_Offsets_MatchTheDocumentedDiagram()
    {
        DoorbellLayout d = default;
        Assert.Equal(0, Offset(ref d, ref d.Magic));
        Assert.Equal(4, Offset(ref d, ref d.Version));
        Assert.Equal(8, Offset(ref d, ref d.Capacity));
        Assert.Equal(64, Offset(ref d, ref d.Seq));
        Assert.Equal(68, Offset(ref d, ref d.ReceiverWaiting));
        Assert.Equal(72, Offset(ref d, ref d.ReceiverDead));
        Assert.Equal(80, Offset(ref d, ref d.Summary));
        Assert.Equal(128, Offset(ref d, ref d.Hints[0]));
        Assert.Equal(128 + (63 * 8), Offset(ref d, ref d.Hints[63]));
        Assert.Equal(640, Unsafe.SizeOf<DoorbellLayout>());
        Assert.Equal(4096, DoorbellLayout.MaxLinks);
    }

    [Fact]
    public void WrittenByDifferentSides_AreOnSeparateCacheLines_ShortMessagesMoveOneLine_EightWordsTwo()
    {
        LinkLayout l = default;
        int control = Offset(ref l, ref l.State) / 64;
        int reply = Offset(ref l, ref l.ReplyState) / 64;
        Assert.NotEqual(control, reply);
        Assert.NotEqual(control, Offset(ref l, ref l.RequestMr[0]) / 64);
        Assert.NotEqual(Offset(ref l, ref l.RequestMr[62]) / 64, Offset(ref l, ref l.ReplyMr[0]) / 64);
        Assert.Equal(0, Offset(ref l, ref l.RequestMr[0]) % 64);
        Assert.Equal(0, Offset(ref l, ref l.ReplyMr[0]) % 64);

        // The request's tag and short words share the control line (which every post writes anyway); the reply's, the
        // reply line with the notice a caller spins on. Neither the request's words nor the reply's share a 128-byte
        // prefetch pair with the other direction's line.
        Assert.Equal(control, Offset(ref l, ref l.RequestTag) / 64);
        Assert.Equal(control, Offset(ref l, ref l.RequestInline[LinkLayout.InlineWords - 1]) / 64);
        Assert.Equal(reply, Offset(ref l, ref l.ReplyTag) / 64);
        Assert.Equal(reply, Offset(ref l, ref l.ReplyInline[LinkLayout.InlineWords - 1]) / 64);
        Assert.NotEqual(reply / 2, Offset(ref l, ref l.RequestMr[0]) / 128);
        Assert.NotEqual(Offset(ref l, ref l.RequestMr[62]) / 128, Offset(ref l, ref l.ReplyMr[0]) / 128);

        // What a spinning side reads but nobody writes per message is on another line: reading it costs no transfer.
        foreach (int rare in new[] { Offset(ref l, ref l.CallReceiveTimeout), Offset(ref l, ref l.ReceiverDead), Offset(ref l, ref l.SenderDead), Offset(ref l, ref l.SenderWaiting), Offset(ref l, ref l.ReceiverWatching) })
        {
            Assert.NotEqual(control, rare / 64);
            Assert.NotEqual(reply, rare / 64);
        }

        // MR0..MR7 of a longer message fill exactly one more line.
        Assert.Equal(Offset(ref l, ref l.RequestMr[0]) / 64, Offset(ref l, ref l.RequestMr[7]) / 64);
        Assert.Equal(Offset(ref l, ref l.ReplyMr[0]) / 64, Offset(ref l, ref l.ReplyMr[7]) / 64);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(63)]
    public void MessageWords_OfUpToSixWords_LiveInTheirDirectionsLine_LongerOnesInTheirDirectionsMrLines(int words)
    {
        LinkLayout l = default;
        Span<ulong> request = l.RequestWords(words), reply = l.ReplyWords(words);
        Assert.Equal(words, request.Length);
        Assert.Equal(words, reply.Length);
        if (words == 0)
        {
            return;
        }

        bool inline = words <= LinkLayout.InlineWords;
        Assert.Equal(inline ? 80 : 256, Offset(ref l, ref request[0]));
        Assert.Equal(inline ? 144 : 768, Offset(ref l, ref reply[0]));
    }
}
