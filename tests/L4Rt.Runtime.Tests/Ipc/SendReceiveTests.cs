using System.Diagnostics;
using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

[Collection(ProcessCollection.Name)]
public class SendReceiveTests
{
    private static readonly TimeSpan s_accept = TimeSpan.FromSeconds(30);

    [Fact]
    public void Wait_EightSenderProcesses_EveryMessageDeliveredOnceInOrderWithItsLabel()
    {
        const int Senders = 8;
        const int PerSender = 400;
        using TempDir dir = new();
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        List<ChildProcess> children = [];
        List<ReceiveLink> links = [];
        try
        {
            for (int k = 0; k < Senders; k++)
            {
                children.Add(ChildProcess.Start("sender", dir.Socket(), PerSender.ToString(CultureInfo.InvariantCulture), k.ToString(CultureInfo.InvariantCulture), "0"));
            }

            for (int k = 0; k < Senders; k++)
            {
                links.Add(listener.Accept(receiver, (ulong)(1000 + k), s_accept));
            }

            Dictionary<ulong, ulong> labelOfSender = [];
            int[] next = new int[Senders];
            for (int n = 0; n < Senders * PerSender; n++)
            {
                IpcResult r = receiver.Wait(L4Timeout.FromMilliseconds(30_000));
                if (r.Status == L4Status.DestinationDeleted)
                {
                    // A sender that sent all its messages exits; its death is reported (once, after its last message).
                    int died = -1;
                    foreach ((ulong sender, ulong senderLabel) in labelOfSender)
                    {
                        died = senderLabel == r.Label ? (int)sender : died;
                    }

                    Assert.True(died >= 0 && next[died] == PerSender, $"the sender under label {r.Label} was reported dead before its last message");
                    n--;
                    continue;
                }

                Assert.Equal(L4Status.Ok, r.Status);
                Assert.Equal(2, r.Tag.Words);
                int id = (int)receiver.Utcb.Mr[0];
                int seq = (int)receiver.Utcb.Mr[1];
                Assert.InRange(id, 0, Senders - 1);
                Assert.Equal(next[id], seq); // each sender's messages once each, in order
                next[id]++;
                Assert.InRange(r.Label, 1000UL, 1000UL + Senders - 1);
                if (labelOfSender.TryGetValue((ulong)id, out ulong label))
                {
                    Assert.Equal(label, r.Label); // a sender always arrives under the same label
                }
                else
                {
                    Assert.DoesNotContain(r.Label, labelOfSender.Values); // and no two senders share one
                    labelOfSender[(ulong)id] = r.Label;
                }
            }

            Assert.All(next, count => Assert.Equal(PerSender, count));
            IpcResult last;
            while ((last = receiver.Wait(L4Timeout.FromMilliseconds(50))).Status == L4Status.DestinationDeleted)
            {
                // deaths of senders that have exited may still come; messages may not
            }

            Assert.Equal(L4Status.ReceiveTimeout, last.Status); // nothing extra
            foreach (ChildProcess child in children)
            {
                Assert.Equal("DONE 0", child.WaitForLine("DONE"));
            }
        }
        finally
        {
            foreach (ChildProcess child in children)
            {
                child.Dispose();
            }
        }
    }

    [Fact]
    public void Receive_ClosedWaitOnOneLink_LeavesOtherLinksMessagesPending()
    {
        using TempDir dir = new();
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess first = ChildProcess.Start("sender", dir.Socket(), "1", "1", "0");
        using ReceiveLink linkA = listener.Accept(receiver, 11, s_accept);
        first.WaitForLine("CONNECTED");
        using ChildProcess second = ChildProcess.Start("sender", dir.Socket(), "1", "2", "300");
        using ReceiveLink linkB = listener.Accept(receiver, 22, s_accept);

        // The first sender's message is posted now; a closed wait on the second link must not take it.
        IpcResult r = receiver.Receive(linkB, L4Timeout.FromMilliseconds(20_000));
        Assert.Equal(L4Status.Ok, r.Status);
        Assert.Equal(22UL, r.Label);
        Assert.Equal(2UL, receiver.Utcb.Mr[0]);

        r = receiver.Wait(L4Timeout.FromMilliseconds(20_000));
        Assert.Equal(L4Status.Ok, r.Status);
        Assert.Equal(11UL, r.Label);
        Assert.Equal(1UL, receiver.Utcb.Mr[0]);
    }

    [Fact]
    public void Send_ZeroFiniteAndNeverTimeouts_BehaveAsL4()
    {
        using TempDir dir = new();
        // The receiver sleeps, then checks with a zero wait that nothing arrived, then waits without limit.
        using ChildProcess child = ChildProcess.Start("receiver-script", dir.Socket(), "sleep:400,wait:0,wait:n,wait:n");
        child.WaitForLine("READY");
        using SendLink link = DirectLink.Connect(dir.Socket(), s_accept);
        child.WaitForLine("LINKED");
        using L4Thread me = new();

        // Zero: the receiver is not waiting, so the send fails at once and posts nothing.
        me.Utcb.Mr[0] = 1;
        Stopwatch clock = Stopwatch.StartNew();
        Assert.Equal(L4Status.SendTimeout, me.Send(link, new MsgTag(1, 1), L4Timeout.Zero).Status);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(300), $"zero timeout blocked for {clock.Elapsed}");

        // Finite: withdrawn after the timeout, never delivered (the receiver's zero wait then finds nothing).
        me.Utcb.Mr[0] = 2;
        clock.Restart();
        Assert.Equal(L4Status.SendTimeout, me.Send(link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(100)).Status);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(99), $"finite timeout ended after {clock.Elapsed}");
        Assert.Equal("WAIT ReceiveTimeout 0 0", child.WaitForLine("WAIT "));

        // Never: delivered once the receiver waits.
        me.Utcb.Mr[0] = 3;
        Assert.Equal(L4Status.Ok, me.Send(link, new MsgTag(1, 1), L4Timeout.Never).Status);
        Assert.Equal("WAIT Ok 7 3", child.WaitForLine("WAIT "));

        // Zero again, now that the receiver waits: it succeeds (the partner is ready).
        child.WaitForLine("WAITING");
        me.Utcb.Mr[0] = 4;
        L4Status status = L4Status.SendTimeout;
        for (int attempt = 0; attempt < 500 && status != L4Status.Ok; attempt++)
        {
            status = me.Send(link, new MsgTag(1, 1), L4Timeout.Zero).Status;
            if (status != L4Status.Ok)
            {
                Thread.Sleep(2); // the child printed WAITING just before entering its wait
            }
        }

        Assert.Equal(L4Status.Ok, status);
        Assert.Equal("WAIT Ok 7 4", child.WaitForLine("WAIT "));
    }

    [Fact]
    public void Wait_ZeroFiniteAndNeverTimeouts_BehaveAsL4()
    {
        using TempDir dir = new();
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess child = ChildProcess.Start("sender", dir.Socket(), "1", "9", "500");
        using ReceiveLink link = listener.Accept(receiver, 3, s_accept);
        child.WaitForLine("CONNECTED");

        Stopwatch clock = Stopwatch.StartNew();
        IpcResult zero = receiver.Wait(L4Timeout.Zero);
        Assert.True(zero.Status == L4Status.ReceiveTimeout, $"{zero} mr0={receiver.Utcb.Mr[0]} mr1={receiver.Utcb.Mr[1]} after {clock.Elapsed}");
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(300));

        clock.Restart();
        Assert.Equal(L4Status.ReceiveTimeout, receiver.Wait(L4Timeout.FromMilliseconds(50)).Status);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(49), $"finite wait ended after {clock.Elapsed}");

        IpcResult r = receiver.Wait(L4Timeout.Never); // the sender starts after 500 ms
        Assert.Equal(L4Status.Ok, r.Status);
        Assert.Equal(3UL, r.Label);
        Assert.Equal(9UL, receiver.Utcb.Mr[0]);
        Assert.Equal("DONE 0", child.WaitForLine("DONE"));
    }

    [Fact]
    public void Sleep_IsAWaitOnNil_ReturnsReceiveTimeoutAfterTheTimeout()
    {
        using L4Thread me = new();
        Assert.Equal(L4Status.ReceiveTimeout, me.Sleep(L4Timeout.Zero));
        Stopwatch clock = Stopwatch.StartNew();
        Assert.Equal(L4Status.ReceiveTimeout, me.Sleep(L4Timeout.FromMilliseconds(30)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(29), $"slept {clock.Elapsed}");
    }

    [Fact]
    public void Abort_WakesASleepWithoutLimit()
    {
        using L4Thread me = new();
        L4Status status = L4Status.Ok;
        int tid = 0;
        Thread sleeper = new(() =>
        {
            Volatile.Write(ref tid, Await.CurrentThreadId());
            status = me.Sleep(L4Timeout.Never);
        });
        sleeper.Start();
        Await.Until(() => Volatile.Read(ref tid) != 0 && Await.IsInFutexWait(tid, me.SleepWord.Address), "the sleeper blocks in futex on its sleep word");
        me.Abort();
        Assert.True(sleeper.Join(5000));
        Assert.Equal(L4Status.Aborted, status);
    }

    [Fact]
    public void Reply_WithoutAReceivedCall_IsInvalidCapability()
    {
        using L4Thread me = new();
        Assert.Equal(L4Status.InvalidCapability, me.Reply(new MsgTag(1)));
    }

    [Fact]
    public void WaitAndReply_ChildCallsParent_ExplicitReplyAndReplyAndWaitBothServe()
    {
        using TempDir dir = new();
        using L4Thread server = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess child = ChildProcess.Start("caller", dir.Socket(), "200");
        using ReceiveLink link = listener.Accept(server, 5, s_accept);
        IpcResult msg = server.Wait(L4Timeout.FromMilliseconds(20_000));
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(L4Status.Ok, msg.Status);
            Assert.Equal(5UL, msg.Label);
            server.Utcb.Mr[0]++;
            if (i % 2 == 0)
            {
                Assert.Equal(L4Status.Ok, server.Reply(msg.Tag));
                msg = i < 199 ? server.Wait(L4Timeout.FromMilliseconds(20_000)) : msg;
            }
            else
            {
                msg = i < 199 ? server.ReplyAndWait(msg.Tag, L4Timeout.FromMilliseconds(20_000), out L4Status reply) : default;
                if (i == 199)
                {
                    Assert.Equal(L4Status.Ok, server.Reply(new MsgTag(2, 1)));
                }
            }
        }

        Assert.Equal("DONE 200 0", child.WaitForLine("DONE"));
    }
}
