using System.Runtime.CompilerServices;
using L4Rt.Memory;

namespace L4Rt.Tests.Memory;

/// <summary>The shared layouts are a cross-process ABI: every offset is pinned here.</summary>
public class LayoutTests
{
    private static int Offset<TStruct, TField>(ref TStruct s, ref TField f) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref s), ref Unsafe.As<TField, byte>(ref f));

    [Fact]
    public void LinkLayout_Offsets_MatchTheDocumentedDiagram()
    {
        LinkLayout l = default;
        Assert.Equal(0, Offset(ref l, ref l.Magic));
        Assert.Equal(4, Offset(ref l, ref l.Version));
        Assert.Equal(8, Offset(ref l, ref l.HintIndex));
        Assert.Equal(64, Offset(ref l, ref l.State));
        Assert.Equal(68, Offset(ref l, ref l.SenderWaiting));
        Assert.Equal(72, Offset(ref l, ref l.SenderWake));
        Assert.Equal(76, Offset(ref l, ref l.ReceiverWatching));
        Assert.Equal(80, Offset(ref l, ref l.SenderDead));
        Assert.Equal(84, Offset(ref l, ref l.ReceiverDead));
        Assert.Equal(128, Offset(ref l, ref l.Request));
        Assert.Equal(128, Offset(ref l, ref l.Request.Tag));
        Assert.Equal(136, Offset(ref l, ref l.Request.Mr[0]));
        Assert.Equal(136 + (62 * 8), Offset(ref l, ref l.Request.Mr[62]));
        Assert.Equal(640, Offset(ref l, ref l.Reply));
        Assert.Equal(648, Offset(ref l, ref l.Reply.Mr[0]));
        Assert.Equal(1152, Unsafe.SizeOf<LinkLayout>());
        Assert.True(Unsafe.SizeOf<LinkLayout>() <= LinkLayout.RegionSize);
        Assert.Equal(512, Unsafe.SizeOf<MessageSlot>());
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
    public void WrittenByDifferentSides_AreOnSeparateCacheLines()
    {
        LinkLayout l = default;
        Assert.NotEqual(Offset(ref l, ref l.State) / 64, Offset(ref l, ref l.Request) / 64);
        Assert.NotEqual(Offset(ref l, ref l.Request.Mr[62]) / 64, Offset(ref l, ref l.Reply) / 64);
        Assert.Equal(0, Offset(ref l, ref l.Request) % 64);
        Assert.Equal(0, Offset(ref l, ref l.Reply) % 64);
    }
}
