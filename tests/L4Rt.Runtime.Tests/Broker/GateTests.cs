using System.Diagnostics;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>A gate shared by many sending threads of one process, and the first send's link setup.</summary>
[Collection(ProcessCollection.Name)]
public sealed class GateTests : IDisposable
{
    private readonly BrokerProcess _broker = new();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public async Task Call_ManyThreadsShareOneGate_EachGetsItsOwnLinkAndItsOwnReplies()
    {
        const int Callers = 8;
        const int Calls = 400;
        await using L4Task task = await _broker.ConnectAsync();
        using L4Thread server = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(server, 1);
        Thread serving = StartIncrementingEcho(server);

        // All callers start together, so first sends (link setup) and cached sends interleave as much as they can.
        using Barrier start = new(Callers);
        string?[] failures = new string?[Callers];
        Thread[] callers = new Thread[Callers];
        for (int c = 0; c < Callers; c++)
        {
            int id = c;
            callers[c] = new Thread(() =>
            {
                using L4Thread me = new();
                start.SignalAndWait();
                for (int i = 0; i < Calls && failures[id] is null; i++)
                {
                    ulong word = ((ulong)id << 32) | (uint)i;
                    me.Utcb.Mr[0] = word;
                    IpcResult r = me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
                    if (!r.IsOk || me.Utcb.Mr[0] != word + 1)
                    {
                        failures[id] = $"caller {id}, call {i}: {r.Status}, MR0 {me.Utcb.Mr[0]:x} for {word:x}";
                    }
                }
            });
            callers[c].Start();
        }

        foreach (Thread caller in callers)
        {
            Assert.True(caller.Join(60_000), "a caller is stuck");
        }

        server.Abort();
        Assert.True(serving.Join(10_000));
        Assert.All(failures, f => Assert.Null(f));
    }

    [Fact]
    public async Task TryGetLink_ManyThreadsShareOneGate_NeverGetAnotherThreadsLink()
    {
        const int Threads = 4;
        await using L4Task task = await _broker.ConnectAsync();
        using L4Thread server = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(server, 1);
        L4Thread[] senders = new L4Thread[Threads];
        SendLink[] own = new SendLink[Threads];
        for (int t = 0; t < Threads; t++)
        {
            senders[t] = new L4Thread();
            L4Timeout setup = L4Timeout.Never;
            Assert.True(gate.TryGetLink(senders[t], ref setup, out own[t], out _));
        }

        int wrong = 0;
        using Barrier start = new(Threads);
        Thread[] threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < 2_000_000; i++)
                {
                    L4Timeout timeout = L4Timeout.Never;
                    gate.TryGetLink(senders[id], ref timeout, out SendLink link, out _);
                    if (!ReferenceEquals(link, own[id]))
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
            });
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        foreach (L4Thread sender in senders)
        {
            sender.Dispose();
        }

        Assert.Equal(0, wrong);
    }

    [Fact]
    public async Task Call_FirstCallWhileTheBrokerDoesNotAnswer_ReturnsSendTimeoutWithinTheCallersTimeout()
    {
        await using L4Task task = await _broker.ConnectAsync();
        using L4Thread server = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(server, 1);
        using L4Thread me = new();
        FactoryUsage baseline = await task.Factory.GetUsageAsync();
        _broker.Stop(); // SIGSTOP: the link setup request is never answered while it is stopped
        Stopwatch clock = Stopwatch.StartNew();
        IpcResult r;
        try
        {
            r = me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(200));
        }
        finally
        {
            _broker.Continue();
        }

        Assert.Equal(L4Status.SendTimeout, r.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the first call returned after {clock.Elapsed}, not within its 200 ms timeout");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(199), $"the first call gave up after {clock.Elapsed}");

        // The broker still sets that link up once it runs again, charged to us: its late answer closes it.
        FactoryUsage now = baseline;
        for (int i = 0; i < 200 && (now = await task.Factory.GetUsageAsync()) != baseline; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(baseline, now); // used to stay charged (one link region and descriptor) until the task ended

        // Once the broker answers again, the next call sets the link up and goes through.
        Thread serving = StartIncrementingEcho(server);
        me.Utcb.Mr[0] = 41;
        Assert.Equal(L4Status.Ok, me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status);
        Assert.Equal(42UL, me.Utcb.Mr[0]);
        server.Abort();
        Assert.True(serving.Join(10_000));
    }

    /// <summary>Serves calls until aborted, replying MR0 + 1.</summary>
    internal static Thread StartIncrementingEcho(L4Thread server)
    {
        Thread serving = new(() =>
        {
            IpcResult msg = server.Wait(L4Timeout.Never);
            while (msg.IsOk)
            {
                server.Utcb.Mr[0]++;
                msg = server.ReplyAndWait(msg.Tag, L4Timeout.Never);
            }
        });
        serving.Start();
        return serving;
    }
}
