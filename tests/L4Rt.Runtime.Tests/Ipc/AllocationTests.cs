using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Tests.Broker;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

/// <summary>Hot paths allocate nothing after warm-up (GC.GetAllocatedBytesForCurrentThread).</summary>
[Collection(ProcessCollection.Name)]
public class AllocationTests
{
    [Fact]
    public void Call_AfterWarmUp_AllocatesZeroBytes()
    {
        using EchoServer server = new();
        using L4Thread me = new();
        MsgTag tag = new(1, 8);
        for (int i = 0; i < 2000; i++)
        {
            Assert.Equal(L4Status.Ok, me.Call(server.Link, tag, L4Timeout.Never).Status);
        }

        int failed = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            failed += me.Call(server.Link, tag, L4Timeout.FromMilliseconds(10_000)).IsOk ? 0 : 1;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failed); // a fast failure allocates nothing either: only calls that went through count
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task CallThroughGate_AfterWarmUp_AllocatesZeroBytes()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        using L4Thread server = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(server, 1);
        Thread serving = GateTests.StartIncrementingEcho(server);
        long allocated = -1;
        int failed = 0;

        // On a thread of its own: the counter is per thread, and the test's async machinery must not count.
        Thread calling = new(() =>
        {
            using L4Thread me = new();
            MsgTag tag = new(1, 1);
            for (int i = 0; i < 2000; i++)
            {
                failed += me.Call(gate, tag, L4Timeout.FromMilliseconds(10_000)).IsOk ? 0 : 1;
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                me.Utcb.Mr[0] = (ulong)i;
                IpcResult r = me.Call(gate, tag, L4Timeout.FromMilliseconds(10_000));
                failed += r.IsOk && me.Utcb.Mr[0] == (ulong)i + 1 ? 0 : 1;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        calling.Start();
        Assert.True(calling.Join(120_000));
        server.Abort();
        Assert.True(serving.Join(10_000));
        Assert.Equal(0, failed);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void ReplyAndWait_AfterWarmUp_AllocatesZeroBytes()
    {
        const int Calls = 12_000;
        using TempDir dir = new();
        using L4Thread server = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess child = ChildProcess.Start("caller", dir.Socket(), Calls.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using ReceiveLink link = listener.Accept(server, 9, TimeSpan.FromSeconds(30));
        IpcResult msg = server.Wait(L4Timeout.Never);
        long before = 0;
        int failed = msg.IsOk ? 0 : 1;
        for (int i = 1; i < Calls; i++)
        {
            if (i == 2000)
            {
                before = GC.GetAllocatedBytesForCurrentThread();
            }

            server.Utcb.Mr[0]++;
            msg = server.ReplyAndWait(msg.Tag, L4Timeout.FromMilliseconds(10_000), out L4Status reply);
            failed += msg.IsOk && reply == L4Status.Ok ? 0 : 1;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        server.Utcb.Mr[0]++;
        Assert.Equal(L4Status.Ok, server.Reply(msg.Tag));
        Assert.Equal(0, failed);
        Assert.Equal(0, allocated);
        Assert.Equal($"DONE {Calls} 0", child.WaitForLine("DONE"));
    }

    [Fact]
    public void Send_AndWait_AfterWarmUp_AllocateZeroBytes()
    {
        using TempDir dir = new();
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess child = ChildProcess.Start("sender", dir.Socket(), "12000", "4", "0");
        using ReceiveLink link = listener.Accept(receiver, 9, TimeSpan.FromSeconds(30));
        long before = 0;
        int failed = 0;
        for (int i = 0; i < 12_000; i++)
        {
            if (i == 2000)
            {
                before = GC.GetAllocatedBytesForCurrentThread();
            }

            IpcResult r = receiver.Wait(L4Timeout.FromMilliseconds(10_000));
            failed += r.IsOk && receiver.Utcb.Mr[1] == (ulong)i ? 0 : 1;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failed);
        Assert.Equal(0, allocated);
        Assert.Equal("DONE 0", child.WaitForLine("DONE"));
    }
}
