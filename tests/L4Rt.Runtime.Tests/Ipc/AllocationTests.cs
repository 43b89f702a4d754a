using L4Rt.Ipc;
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

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            me.Call(server.Link, tag, L4Timeout.FromMilliseconds(10_000));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
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
        for (int i = 1; i < Calls; i++)
        {
            if (i == 2000)
            {
                before = GC.GetAllocatedBytesForCurrentThread();
            }

            server.Utcb.Mr[0]++;
            msg = server.ReplyAndWait(msg.Tag, L4Timeout.FromMilliseconds(10_000));
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        server.Utcb.Mr[0]++;
        server.Reply(msg.Tag);
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
        for (int i = 0; i < 12_000; i++)
        {
            if (i == 2000)
            {
                before = GC.GetAllocatedBytesForCurrentThread();
            }

            receiver.Wait(L4Timeout.FromMilliseconds(10_000));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal("DONE 0", child.WaitForLine("DONE"));
    }
}
