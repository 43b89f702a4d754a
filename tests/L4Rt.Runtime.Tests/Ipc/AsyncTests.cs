using System.Diagnostics;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

/// <summary>The asynchronous data plane: waits that hold no thread (the futex reactor), cancellation within a millisecond, no allocation.</summary>
[Collection(ProcessCollection.Name)]
public class AsyncTests
{
    [Fact]
    public async Task CallAsync_ToAServerInAnotherProcess_GetsEachReply_AlsoWhenTheServerIsSlow()
    {
        using EchoServer server = new(replyDelayUs: 2000); // 2 ms per call: the caller sleeps in the reactor every time
        using L4Thread me = new() { SpinNanoseconds = 0 };
        for (ulong i = 0; i < 50; i++)
        {
            me.Utcb.Mr[0] = i;
            me.Utcb.Mr[1] = 100 + i;
            IpcResult r = await me.CallAsync(server.Link, new MsgTag(1, 2), L4Timeout.FromMilliseconds(10_000));
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal((i + 1, 101 + i), (me.Utcb.Mr[0], me.Utcb.Mr[1]));
        }
    }

    [Fact]
    public async Task SixtyFourPendingWaits_HoldNoThreadPoolThread_AndEachCompletesWhenItsMessageComes()
    {
        const int Waiters = 64;
        using TempDir dir = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        List<L4Thread> receivers = [];
        List<SendLink> links = [];
        try
        {
            for (int i = 0; i < Waiters; i++)
            {
                L4Thread receiver = new();
                receivers.Add(receiver);
                Task<SendLink> connect = Task.Run(() => DirectLink.Connect(dir.Socket(), TimeSpan.FromSeconds(10)));
                listener.Accept(receiver, (ulong)i, TimeSpan.FromSeconds(10));
                links.Add(await connect);
            }

            int threadsBefore = Process.GetCurrentProcess().Threads.Count;
            Task<IpcResult>[] waits = receivers.Select(r => r.WaitAsync(L4Timeout.FromMilliseconds(30_000)).AsTask()).ToArray();
            await Task.Delay(300);
            Assert.All(waits, w => Assert.False(w.IsCompleted));

            // The pool is free: a work item runs at once (64 blocking waits would starve a 2-core pool for seconds).
            Stopwatch started = Stopwatch.StartNew();
            await Task.Run(() => { });
            Assert.True(started.ElapsedMilliseconds < 250, $"a pool work item waited {started.ElapsedMilliseconds} ms");
            int threadsWaiting = Process.GetCurrentProcess().Threads.Count;
            Assert.True(threadsWaiting - threadsBefore <= 4, $"{threadsWaiting - threadsBefore} threads more while 64 waits were pending");

            using L4Thread sender = new();
            for (int i = Waiters - 1; i >= 0; i--)
            {
                sender.Utcb.Mr[0] = (ulong)i * 7;
                Assert.Equal(L4Status.Ok, sender.Send(links[i], new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status);
                IpcResult got = await waits[i].WaitAsync(TimeSpan.FromSeconds(10));
                Assert.Equal((L4Status.Ok, (ulong)i), (got.Status, got.Label));
                Assert.Equal((ulong)i * 7, receivers[i].Utcb.Mr[0]);
            }
        }
        finally
        {
            links.ForEach(l => l.Dispose());
            receivers.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public async Task Cancellation_OfWaitAsyncAndCallAsync_TakesEffectWithinAMillisecond_Median()
    {
        using EchoServer server = new("hold"); // holds the first call unanswered, takes no other: both phases are cancelled
        using L4Thread receiver = new();
        using L4Thread caller = new() { SpinNanoseconds = 0 };
        List<double> waitUs = [], callUs = [];
        for (int i = 0; i < 40; i++)
        {
            using CancellationTokenSource cts = new();
            ValueTask<IpcResult> wait = receiver.WaitAsync(L4Timeout.Never, cts.Token);
            Thread.Sleep(2);
            waitUs.Add(await CancelledAfter(cts, wait));

            using CancellationTokenSource callCts = new();
            ValueTask<IpcResult> call = caller.CallAsync(server.Link, new MsgTag(1, 1), L4Timeout.Never, callCts.Token);
            Thread.Sleep(2);
            callUs.Add(await CancelledAfter(callCts, call));
        }

        double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        Assert.True(Median(waitUs) < 1000, $"WaitAsync cancelled after {Median(waitUs):0} µs (median)");
        Assert.True(Median(callUs) < 1000, $"CallAsync cancelled after {Median(callUs):0} µs (median)");

        // The thread is usable afterwards; the abandoned calls were withdrawn or abandoned, never answered late.
        using EchoServer echo = new();
        caller.Utcb.Mr[0] = 41;
        Assert.Equal(L4Status.Ok, (await caller.CallAsync(echo.Link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000))).Status);
        Assert.Equal(42UL, caller.Utcb.Mr[0]);
    }

    private static async Task<double> CancelledAfter(CancellationTokenSource cts, ValueTask<IpcResult> pending)
    {
        long start = Stopwatch.GetTimestamp();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    [Fact]
    public void CallAsync_AfterWarmUp_AllocatesNothingPerCall()
    {
        // Counted in a process of its own: continuations run on pool threads, and this one runs other tests beside.
        using TempDir dir = new();
        using ChildProcess server = ChildProcess.Start("echo-server", dir.Socket(), "1");
        server.WaitForLine("READY");
        using ChildProcess caller = ChildProcess.Start("async-alloc", dir.Socket(), "5000");
        string[] line = caller.WaitForLine("ALLOC", 60_000).Split(' ');
        Assert.Equal("0", line[2]); // no call failed
        double perCall = double.Parse(line[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(perCall < 1, $"{perCall} bytes per asynchronous call");
    }

    [Fact]
    public async Task ChannelAsync_ReadWaitsForTheProducer_WriteWaitsForRoom_BothCancellable()
    {
        using ChannelPair pair = new(capacity: 4096);
        ChannelConsumer consumer = pair.Consumer;
        ChannelProducer producer = pair.Producer;
        byte[] buffer = new byte[3000];

        ValueTask<(L4Status, int)> read = consumer.ReadAsync(buffer);
        Assert.False(read.IsCompleted);
        Assert.Equal(L4Status.Ok, producer.Write(new byte[] { 1, 2, 3 }, L4Timeout.Zero));
        Assert.Equal((L4Status.Ok, 3), await read.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(L4Status.Ok, await producer.WriteAsync(new byte[3000]));
        ValueTask<L4Status> write = producer.WriteAsync(new byte[3000]); // no room until the consumer releases
        await Task.Delay(50);
        Assert.False(write.IsCompleted);
        Assert.Equal((L4Status.Ok, 3000), await consumer.ReadAsync(buffer));
        Assert.Equal(L4Status.Ok, await write.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((L4Status.Ok, 3000), await consumer.ReadAsync(buffer));

        using CancellationTokenSource cts = new();
        ValueTask<(L4Status, int)> cancelled = consumer.ReadAsync(buffer, cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        Assert.Equal(L4Status.Ok, producer.Write(new byte[] { 9 }, L4Timeout.Zero));
        Assert.Equal((L4Status.Ok, 1), await consumer.ReadAsync(buffer)); // the end works on after a cancelled read
        Assert.Equal(9, buffer[0]);
    }
}
