using System.Diagnostics;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

[Collection(ProcessCollection.Name)]
public class CallTests
{
    [Fact]
    public void Call_EchoServerInChild_RepliesWithEveryWordIncremented()
    {
        using EchoServer server = new();
        using L4Thread me = new();
        for (int round = 0; round < 2000; round++)
        {
            int words = round % (MsgTag.MaxWords + 1);
            for (int i = 0; i < words; i++)
            {
                me.Utcb.Mr[i] = (ulong)((round * 100) + i);
            }

            IpcResult r = me.Call(server.Link, new MsgTag(5, words), L4Timeout.FromMilliseconds(10_000));
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal(words, r.Tag.Words);
            Assert.Equal(5, r.Tag.Protocol);
            for (int i = 0; i < words; i++)
            {
                Assert.Equal((ulong)((round * 100) + i + 1), me.Utcb.Mr[i]);
            }
        }
    }

    [Fact]
    public void Call_OneL4ThreadFromTwoOsThreadsAtOnce_IsRefusedAsMisuse_NotBlamedOnThePeer()
    {
        using EchoServer server = new(replyDelayUs: 2_000);
        using L4Thread shared = new();
        int misuse = 0, violations = 0, ok = 0;
        using Barrier start = new(2);
        void Run()
        {
            start.SignalAndWait();
            for (int i = 0; i < 400; i++)
            {
                try
                {
                    L4Status status = shared.Call(server.Link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status;
                    Interlocked.Increment(ref status == L4Status.Ok ? ref ok : ref violations);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("one OS thread at a time", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref misuse);
                }
            }
        }

        Thread a = new(Run), b = new(Run);
        a.Start();
        b.Start();
        a.Join();
        b.Join();

        // Each call holds the thread for ~2 ms, so nearly every call of the other OS thread overlaps one.
        Assert.True(misuse > 100, $"misuse refused {misuse} times, ok {ok}, other statuses {violations}");
        Assert.True(ok > 100, $"the calls that got in must still succeed: ok {ok}");
        Assert.Equal(0, violations); // nothing torn: the refused call never touched the UTCB

        shared.Utcb.Mr[0] = 41; // and the thread is sound afterwards
        Assert.Equal(L4Status.Ok, shared.Call(server.Link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status);
    }

    [Theory]
    [InlineData(250_000_000L)]
    [InlineData(10_000_000_000L)]
    [InlineData(-1L)] // never
    public async Task Call_ServerSeesTheCallersReceiveTimeout_AndHoldsAReplyCapability(long receiveNanoseconds)
    {
        using EchoServer server = new("timeout");
        using L4Thread me = new();
        L4Timeout receive = receiveNanoseconds < 0 ? L4Timeout.Never : L4Timeout.FromNanoseconds(receiveNanoseconds);
        for (int round = 0; round < 3; round++)
        {
            IpcResult r = me.Call(server.Link, new MsgTag(1, 0), L4Timeout.FromSeconds(10), receive);
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal(receive.Nanoseconds, (long)me.Utcb.Mr[0]);
            Assert.Equal(1UL, me.Utcb.Mr[1]);
        }

        // Asynchronous calls carry it too.
        IpcResult a = await me.CallAsync(server.Link, new MsgTag(1, 0), L4Timeout.FromSeconds(10), L4Timeout.FromMilliseconds(777));
        Assert.Equal(L4Status.Ok, a.Status);
        Assert.Equal(777_000_000L, (long)me.Utcb.Mr[0]);
    }

    [Fact]
    public void CallerReceiveTimeout_WithoutAPendingCall_IsZero_AndNoReplyCapability()
    {
        using L4Thread idle = new();
        Assert.False(idle.HasReplyCapability);
        Assert.True(idle.CallerReceiveTimeout.IsZero);
    }

    [Fact]
    public void Call_FutexOnlyWaiting_StillDeliversEveryReply()
    {
        using EchoServer server = new();
        using L4Thread me = new() { SpinNanoseconds = 0 };
        for (int i = 0; i < 500; i++)
        {
            me.Utcb.Mr[0] = (ulong)i;
            IpcResult r = me.Call(server.Link, new MsgTag(1, 1), L4Timeout.Never);
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal((ulong)i + 1, me.Utcb.Mr[0]);
        }
    }

    [Fact]
    public void Call_ServerDropsReplyCapability_ReturnsReplyDroppedAtOnce()
    {
        using EchoServer server = new("drop");
        using L4Thread me = new();
        Stopwatch clock = Stopwatch.StartNew();
        IpcResult r = me.Call(server.Link, new MsgTag(1, 1), L4Timeout.Never);
        Assert.Equal(L4Status.ReplyDropped, r.Status);
        server.Child.WaitForLine("DROP");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "a dropped reply capability must not leave the caller hanging");

        // The link is usable again afterwards: the next call is dropped too, not confused with the old one.
        Assert.Equal(L4Status.ReplyDropped, me.Call(server.Link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(5000)).Status);
    }

    [Fact]
    public void Call_ReceiverNeverWaits_SendPhaseTimesOut()
    {
        using TempDir dir = new();
        using ChildProcess child = ChildProcess.Start("receiver-script", dir.Socket(), "sleep:60000");
        child.WaitForLine("READY");
        using SendLink link = DirectLink.Connect(dir.Socket(), TimeSpan.FromSeconds(20));
        using L4Thread me = new();
        Stopwatch clock = Stopwatch.StartNew();
        IpcResult r = me.Call(link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(100), L4Timeout.Never);
        Assert.Equal(L4Status.SendTimeout, r.Status);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(99), $"timed out after {clock.Elapsed}");
    }

    [Fact]
    public void Call_ReplySlowerThanReceiveTimeout_ReturnsReceiveTimeout_ThenNextCallWorks()
    {
        using EchoServer server = new("report", replyDelayUs: 300_000);
        using L4Thread me = new();
        me.Utcb.Mr[0] = 1;
        IpcResult r = me.Call(server.Link, new MsgTag(1, 1), L4Timeout.Never, L4Timeout.FromMilliseconds(50));
        Assert.Equal(L4Status.ReceiveTimeout, r.Status);
        Assert.Equal("REPLY 1 SendTimeout", server.Child.WaitForLine("REPLY")); // the late reply was refused, not delivered

        me.Utcb.Mr[0] = 2;
        r = me.Call(server.Link, new MsgTag(1, 1), L4Timeout.Never, L4Timeout.FromMilliseconds(5000));
        Assert.Equal(L4Status.Ok, r.Status);
        Assert.Equal(3UL, me.Utcb.Mr[0]);
        Assert.Equal("REPLY 2 Ok", server.Child.WaitForLine("REPLY"));
    }

    [Fact]
    public void Call_ReplyRacesReceiveTimeout_EveryReplyDeliveredExactlyOnceOrRefused()
    {
        const int Rounds = 300;
        using EchoServer server = new("report", replyDelayUs: 1000);
        using L4Thread me = new();
        Random random = new(42);
        bool[] gotReply = new bool[Rounds];
        int timeouts = 0;
        for (int i = 0; i < Rounds; i++)
        {
            me.Utcb.Mr[0] = (ulong)i;
            long timeoutUs = random.Next(600, 1600); // straddles the server's 1 ms reply delay
            IpcResult r = me.Call(server.Link, new MsgTag(1, 1), L4Timeout.Never, L4Timeout.FromMicroseconds(timeoutUs));
            if (r.Status == L4Status.Ok)
            {
                Assert.Equal((ulong)i + 1, me.Utcb.Mr[0]); // the reply to this call, never an older one
                gotReply[i] = true;
            }
            else
            {
                Assert.Equal(L4Status.ReceiveTimeout, r.Status);
                timeouts++;
            }

            // The server reports each reply's fate; it must match what the caller saw.
            string line = server.Child.WaitForLine("REPLY");
            Assert.Equal($"REPLY {i} {(gotReply[i] ? "Ok" : "SendTimeout")}", line);
        }

        Assert.InRange(timeouts, 1, Rounds - 1); // the race really happened both ways
    }

    [Fact]
    public void Call_HostileServerForgesReply_ReturnsProtocolViolation()
    {
        using EchoServer server = new("evil");
        using L4Thread me = new();
        IpcResult r = me.Call(server.Link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(5000));
        Assert.Equal(L4Status.ProtocolViolation, r.Status);
    }

    [Fact]
    public void Call_WithTypedItemsOnADirectLink_IsRefusedAsMisuse()
    {
        using EchoServer server = new();
        using L4Thread me = new();
        Assert.Throws<NotSupportedException>(() => me.Call(server.Link, new MsgTag(1, 0, items: 1), L4Timeout.Zero));
    }
}
