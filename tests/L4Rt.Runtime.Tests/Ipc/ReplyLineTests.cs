using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Shared;

namespace L4Rt.Tests.Ipc;

/// <summary>
/// The reply line (link layout v6): a spinning caller watches the receiver's notice there, not State. A unit of the
/// protocol over a real link region, between two threads of this process (LocalServer).
/// </summary>
public class ReplyLineTests
{
    [Fact]
    public void Call_WithANoticeForItsSeqLeftFromLongAgo_WaitsForTheRealReply()
    {
        // A notice matching the next call's seq (as left 2^27 messages ago: sends and abandoned calls leave none) with
        // words the server never wrote. The caller must not take it for the reply: the post clears it first.
        using ManualResetEventSlim serverMayReply = new();
        using LocalServer local = new((server, msg) =>
        {
            serverMayReply.Wait(TimeSpan.FromSeconds(10));
            server.Utcb.Mr[0] = server.Utcb.Mr[0] + 1;
            return new MsgTag(3, words: 1);
        });

        ref LinkLayout l = ref local.Link.Region.Layout;
        int nextSeq = (local.Link.NextSeq + 1) & 0x07FFFFFF;
        l.ReplyInline[0] = 0xBAD;
        l.ReplyTag = new MsgTag(9, words: 1).Raw;
        Volatile.Write(ref l.ReplyState, LinkState.Make(nextSeq, LinkState.Replied));

        local.Client.Utcb.Mr[0] = 41;
        IpcResult result = default;
        ulong word = 0;
        Thread caller = new(() =>
        {
            result = local.Client.Call(local.Link, new MsgTag(3, words: 1), L4Timeout.FromMilliseconds(10_000));
            word = local.Client.Utcb.Mr[0];
        }) { IsBackground = true };
        caller.Start();
        Assert.False(caller.Join(TimeSpan.FromMilliseconds(100)), "the call returned before the server replied");
        serverMayReply.Set();
        Assert.True(caller.Join(TimeSpan.FromSeconds(10)), "the call did not return after the reply");

        Assert.Equal(L4Status.Ok, result.Status);
        Assert.Equal(3, result.Tag.Protocol);
        Assert.Equal(42UL, word);
        Assert.Equal(LinkState.Make(nextSeq, LinkState.Replied), Volatile.Read(ref l.ReplyState)); // the server's own notice
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Call_ReplyOfEveryShape_ArrivesThroughTheReplyLine_AndTheNoticeNamesEachCall(int words)
    {
        using LocalServer local = new((server, msg) =>
        {
            for (int i = 0; i < msg.Tag.Words; i++)
            {
                server.Utcb.Mr[i] += 1000;
            }

            return msg.Tag;
        });

        ref LinkLayout l = ref local.Link.Region.Layout;
        for (int round = 0; round < 1000; round++)
        {
            for (int i = 0; i < words; i++)
            {
                local.Client.Utcb.Mr[i] = (ulong)((round * 10) + i);
            }

            IpcResult r = local.Client.Call(local.Link, new MsgTag(2, words), L4Timeout.FromMilliseconds(10_000));
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal(words, r.Tag.Words);
            for (int i = 0; i < words; i++)
            {
                Assert.Equal((ulong)((round * 10) + i + 1000), local.Client.Utcb.Mr[i]);
            }

            Assert.Equal(LinkState.Make(local.Link.NextSeq, LinkState.Replied), Volatile.Read(ref l.ReplyState));
        }
    }
}
