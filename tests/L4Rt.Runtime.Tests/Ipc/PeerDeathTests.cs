using System.Diagnostics;
using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

/// <summary>SIGKILL of a partner while the other side is blocked: the blocked side returns an error within 100 ms.</summary>
[Collection(ProcessCollection.Name)]
public class PeerDeathTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMilliseconds(100);

    [Theory]
    [InlineData(0L)]
    [InlineData(L4Thread.DefaultSpinNanoseconds)]
    public void Call_ServerKilledWhileHoldingTheCall_CallerReturnsDestinationDeleted(long spinNs)
    {
        using EchoServer server = new("hold");
        using L4Thread me = new() { SpinNanoseconds = spinNs };
        IpcResult result = default;
        long returnedAt = 0;
        Thread caller = new(() =>
        {
            result = me.Call(server.Link, new MsgTag(1, 1), L4Timeout.Never);
            returnedAt = Stopwatch.GetTimestamp();
        });
        caller.Start();
        server.Child.WaitForLine("HOLD"); // printed once the caller flagged that it sleeps in its receive phase
        Await.Until(() => Volatile.Read(ref server.Link.Region.Layout.SenderWaiting) != 0, "the caller sleeps in its receive phase");
        long killedAt = server.Child.Kill();
        Assert.True(caller.Join(5000), "the caller is still blocked after its partner died");
        Assert.Equal(L4Status.DestinationDeleted, result.Status);
        AssertWithinLimit(killedAt, returnedAt);
        Assert.True(server.Link.IsDestinationDeleted);
        Assert.Equal(L4Status.DestinationDeleted, me.Call(server.Link, new MsgTag(1), L4Timeout.Never).Status);
    }

    [Fact]
    public void Send_ReceiverKilledWhileSenderBlocks_SenderReturnsDestinationDeleted()
    {
        using TempDir dir = new();
        using ChildProcess child = ChildProcess.Start("receiver-script", dir.Socket(), "sleep:60000");
        child.WaitForLine("READY");
        using SendLink link = DirectLink.Connect(dir.Socket(), TimeSpan.FromSeconds(20));
        using L4Thread me = new();
        IpcResult result = default;
        long returnedAt = 0;
        Thread sender = new(() =>
        {
            result = me.Send(link, new MsgTag(1, 1), L4Timeout.Never);
            returnedAt = Stopwatch.GetTimestamp();
        });
        sender.Start();
        Await.Until(() => Volatile.Read(ref link.Region.Layout.SenderWaiting) != 0, "the sender sleeps on its link");
        long killedAt = child.Kill();
        Assert.True(sender.Join(5000));
        Assert.Equal(L4Status.DestinationDeleted, result.Status);
        AssertWithinLimit(killedAt, returnedAt);
    }

    [Fact]
    public void Receive_SenderKilledDuringClosedWait_ReceiverReturnsDestinationDeleted()
    {
        using TempDir dir = new();
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess child = ChildProcess.Start("idle-sender", dir.Socket());
        using ReceiveLink link = listener.Accept(receiver, 1, TimeSpan.FromSeconds(30));
        child.WaitForLine("CONNECTED");
        IpcResult result = default;
        long returnedAt = 0;
        Thread waiter = new(() =>
        {
            result = receiver.Receive(link, L4Timeout.Never);
            returnedAt = Stopwatch.GetTimestamp();
        });
        waiter.Start();
        Await.Until(() => Volatile.Read(ref receiver.Doorbell.Layout.ReceiverWaiting) == DoorbellLayout.ReceiverAsleep, "the receiver sleeps on its doorbell");
        long killedAt = child.Kill();
        Assert.True(waiter.Join(5000));
        Assert.Equal(L4Status.DestinationDeleted, result.Status);
        AssertWithinLimit(killedAt, returnedAt);
        Assert.True(link.IsSenderDeleted);
    }

    [Fact]
    public async Task Wait_DirectLinkSenderKilledDuringOpenWait_ReturnsDestinationDeletedWithItsLabelOnce()
    {
        using TempDir dir = new();
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess child = ChildProcess.Start("idle-sender", dir.Socket());
        using ReceiveLink dying = listener.Accept(receiver, 21, TimeSpan.FromSeconds(30));
        child.WaitForLine("CONNECTED");
        Task<SendLink> connecting = Task.Run(() => DirectLink.Connect(dir.Socket(), TimeSpan.FromSeconds(30)));
        using ReceiveLink living = listener.Accept(receiver, 22, TimeSpan.FromSeconds(30));
        using SendLink livingSender = await connecting;

        IpcResult result = default;
        long returnedAt = 0;
        Thread waiter = new(() =>
        {
            result = receiver.Wait(L4Timeout.FromMilliseconds(30_000));
            returnedAt = Stopwatch.GetTimestamp();
        }) { IsBackground = true };
        waiter.Start();
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref receiver.Doorbell.Layout.ReceiverWaiting) == L4Rt.Memory.DoorbellLayout.ReceiverAsleep, 10_000), "the receiver must be asleep in its open wait");
        long killedAt = child.Kill();
        Assert.True(waiter.Join(5000));
        Assert.Equal(L4Status.DestinationDeleted, result.Status);
        Assert.Equal(21UL, result.Label);
        AssertWithinLimit(killedAt, returnedAt);

        Assert.Equal(L4Status.ReceiveTimeout, receiver.Wait(L4Timeout.FromMilliseconds(50)).Status); // reported once
        using L4Thread client = new();
        client.Utcb.Mr[0] = 5;
        Task<IpcResult> sending = Task.Run(() => client.Send(livingSender, new MsgTag(1, words: 1), L4Timeout.FromSeconds(20)));
        IpcResult message = receiver.Wait(L4Timeout.FromSeconds(20)); // the other link still serves
        Assert.Equal((L4Status.Ok, 22UL, 5UL), (message.Status, message.Label, receiver.Utcb.Mr[0]));
        Assert.Equal(L4Status.Ok, (await sending).Status);
    }

    [Fact]
    public void Call_CallerInOtherProcess_ServerKilled_CallerProcessReturnsWithin100ms()
    {
        // Both partners are separate processes: a server holding the call, a caller blocked in it.
        using TempDir dir = new();
        using ChildProcess server = ChildProcess.Start("echo-server", dir.Socket(), "1", "hold");
        server.WaitForLine("READY");
        using ChildProcess caller = ChildProcess.Start("call-block", dir.Socket());
        caller.WaitForLine("CALLING");
        server.WaitForLine("HOLD"); // printed once the caller flagged that it sleeps in its receive phase
        long killedAt = server.Kill();
        string[] parts = caller.WaitForLine("CALL ").Split(' ');
        Assert.Equal("DestinationDeleted", parts[1]);
        long returnedNs = long.Parse(parts[2], CultureInfo.InvariantCulture);
        TimeSpan latency = TimeSpan.FromTicks((returnedNs - Monotonic.ToNanoseconds(killedAt)) / 100);
        Assert.True(latency < s_limit, $"the caller returned {latency.TotalMilliseconds:0.0} ms after the kill");
    }

    private static void AssertWithinLimit(long killedAt, long returnedAt)
    {
        TimeSpan latency = Stopwatch.GetElapsedTime(killedAt, returnedAt);
        Assert.True(latency < s_limit, $"returned {latency.TotalMilliseconds:0.0} ms after the kill");
    }
}
