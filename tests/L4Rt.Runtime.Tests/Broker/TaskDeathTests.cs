using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Objects;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>Death of tasks and of the broker itself, with real processes.</summary>
[Collection(ProcessCollection.Name)]
public class TaskDeathTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task TaskKilledMidCall_CallerGetsDestinationDeleted_AndEverythingItHeldIsReleased()
    {
        using BrokerProcess broker = new();
        await using L4Task me = await broker.ConnectAsync("observer");
        FactoryUsage myUsage = await me.Factory.GetUsageAsync();

        // The first round warms the broker up (it maps assemblies lazily, which holds descriptors);
        // the second must return the broker to exactly the descriptors it had before it.
        await KillMidCallRound(broker, me, "warm-up", myUsage);
        Thread.Sleep(200);
        int baselineFds = broker.OpenFds;
        string baseline = broker.DescribeFds();
        await KillMidCallRound(broker, me, "victim", myUsage);

        Stopwatch wait = Stopwatch.StartNew();
        while (broker.OpenFds != baselineFds && wait.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(20);
        }

        Assert.True(baselineFds == broker.OpenFds, $"broker fds {broker.OpenFds}, baseline {baselineFds}.\nbefore:\n{baseline}\nafter:\n{broker.DescribeFds()}");
    }

    private static async Task KillMidCallRound(BrokerProcess broker, L4Task me, string name, FactoryUsage myUsage)
    {
        using ChildProcess server = ChildProcess.Start("task-server", broker.SocketPath, name, "9", "hold");
        server.WaitForLine("READY");
        Gate gate = await me.Names.QueryAsync<Gate>(name, TimeSpan.FromSeconds(10));
        using L4Thread caller = new();
        IpcResult result = default;
        long returnedAt = 0;
        Thread calling = new(() =>
        {
            result = caller.Call(gate, new MsgTag(1, 1), L4Timeout.Never);
            returnedAt = Stopwatch.GetTimestamp();
        });
        calling.Start();
        server.WaitForLine("HOLD"); // printed once the caller flagged that it sleeps in its receive phase
        long killedAt = server.Kill();
        Assert.True(calling.Join(5000), "the caller is still blocked after the server task died");
        Assert.Equal(L4Status.DestinationDeleted, result.Status);
        TimeSpan latency = Stopwatch.GetElapsedTime(killedAt, returnedAt);
        Assert.True(latency < s_limit, $"returned {latency.TotalMilliseconds:0.0} ms after the kill");

        // Its name, objects and capabilities are gone; our link's bytes were refunded with it.
        Assert.DoesNotContain(await me.Names.ListAsync(), n => n.Name == name);
        using JsonDocument status = JsonDocument.Parse(await me.GetBrokerStatusJsonAsync());
        Assert.Equal(1, status.RootElement.GetProperty("tasks").GetArrayLength());
        Assert.Equal(0, status.RootElement.GetProperty("threads").GetArrayLength());
        Assert.Equal(0, status.RootElement.GetProperty("gates").GetArrayLength());
        Assert.Equal(myUsage, await me.Factory.GetUsageAsync());
        await gate.DeleteAsync().ContinueWith(_ => { }, TaskScheduler.Default); // already revoked: InvalidCapability is fine
    }

    [Fact]
    public async Task ReceiverTaskKilled_BlockedCallerInAnotherProcess_ReturnsWithin100ms()
    {
        using BrokerProcess broker = new();
        using ChildProcess server = ChildProcess.Start("task-server", broker.SocketPath, "held", "1", "hold");
        server.WaitForLine("READY");
        using ChildProcess caller = ChildProcess.Start("task-caller", broker.SocketPath, "held", "0");
        caller.WaitForLine("CALLING");
        server.WaitForLine("HOLD"); // printed once the caller flagged that it sleeps in its receive phase
        long killedAt = server.Kill();
        string[] parts = caller.WaitForLine("CALL ").Split(' ');
        Assert.Equal("DestinationDeleted", parts[1]);
        TimeSpan latency = TimeSpan.FromTicks((long.Parse(parts[2], CultureInfo.InvariantCulture) - Monotonic.ToNanoseconds(killedAt)) / 100);
        Assert.True(latency < s_limit, $"returned {latency.TotalMilliseconds:0.0} ms after the kill");
        await Task.CompletedTask;
    }

    [Fact]
    public async Task BrokerKilled_BlockedReceiverAndBlockedCaller_ReturnBrokerLostWithin100ms()
    {
        BrokerProcess broker = new();
        try
        {
            await using L4Task server = await broker.ConnectAsync("server");
            await using L4Task client = await broker.ConnectAsync("client");
            using L4Thread receiver = await server.CreateThreadAsync();
            using L4Thread holder = await server.CreateThreadAsync();
            Gate held = await server.Factory.CreateGateAsync(holder, 2);
            await server.Names.RegisterAsync("held", held);
            Gate gate = await client.Names.QueryAsync<Gate>("held", TimeSpan.FromSeconds(5));
            using L4Thread caller = new();
            Assert.Equal(L4Status.Ok, gate.Prepare(caller));

            IpcResult received = default, called = default;
            long receivedAt = 0, calledAt = 0;
            Thread waiting = new(() =>
            {
                received = receiver.Wait(L4Timeout.Never);
                receivedAt = Stopwatch.GetTimestamp();
            });
            Thread calling = new(() =>
            {
                called = caller.Call(gate, new MsgTag(1, 1), L4Timeout.Never);
                calledAt = Stopwatch.GetTimestamp();
            });
            waiting.Start();
            calling.Start();
            IpcResult taken = holder.Wait(L4Timeout.FromMilliseconds(5000)); // the holder takes the call and never replies
            Assert.Equal(L4Status.Ok, taken.Status);
            Assert.True(caller.TryGetCachedLink(gate, out SendLink? link));
            Await.Until(() => Volatile.Read(ref link.Region.Layout.SenderWaiting) != 0, "the caller sleeps in its receive phase");
            Await.Until(() => Volatile.Read(ref receiver.Doorbell.Layout.ReceiverWaiting) == DoorbellLayout.ReceiverAsleep, "the receiver sleeps on its doorbell");
            long killedAt = broker.Kill();
            Assert.True(waiting.Join(5000) && calling.Join(5000), "a thread is still blocked after the broker died");
            Assert.Equal(L4Status.BrokerLost, received.Status);
            Assert.Equal(L4Status.BrokerLost, called.Status);
            Assert.True(Stopwatch.GetElapsedTime(killedAt, receivedAt) < s_limit, $"receiver: {Stopwatch.GetElapsedTime(killedAt, receivedAt).TotalMilliseconds:0.0} ms");
            Assert.True(Stopwatch.GetElapsedTime(killedAt, calledAt) < s_limit, $"caller: {Stopwatch.GetElapsedTime(killedAt, calledAt).TotalMilliseconds:0.0} ms");
            Assert.True(client.IsBrokerLost);
            L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => client.Names.ListAsync());
            Assert.Equal(L4Status.BrokerLost, e.Status);
        }
        finally
        {
            broker.Dispose();
        }
    }

    [Fact]
    public async Task IrqTriggeredFromSeveralProcesses_WhileReceiverBusy_CoalescesWithTheLabel()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        using L4Thread receiver = await task.CreateThreadAsync();
        Irq irq = await task.Factory.CreateIrqAsync(receiver, label: 4242);
        await task.Names.RegisterAsync("tick", irq, Protocol.CapRights.Send);
        List<ChildProcess> sources = [];
        try
        {
            for (int i = 0; i < 3; i++)
            {
                sources.Add(ChildProcess.Start("task-irq", broker.SocketPath, "tick", "1000"));
            }

            foreach (ChildProcess source in sources)
            {
                Assert.Equal("DONE 0", source.WaitForLine("DONE"));
            }

            // The receiver was busy (not waiting) the whole time: 3,000 triggers arrive as one delivery.
            IpcResult r = receiver.Wait(L4Timeout.FromMilliseconds(5000));
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal(SystemProtocol.Irq, r.Tag.Protocol);
            Assert.Equal(4242UL, r.Label);
            Assert.Equal(3000UL, receiver.Utcb.Mr[0]);
            Assert.Equal(L4Status.ReceiveTimeout, receiver.Wait(L4Timeout.FromMilliseconds(20)).Status);
        }
        finally
        {
            foreach (ChildProcess source in sources)
            {
                source.Dispose();
            }
        }
    }

    [Fact]
    public async Task ManyCallersInProcesses_ThroughOneGate_AllServed()
    {
        using BrokerProcess broker = new();
        using ChildProcess server = ChildProcess.Start("task-server", broker.SocketPath, "echo", "1", "echo");
        server.WaitForLine("READY");
        List<ChildProcess> callers = [];
        try
        {
            for (int i = 0; i < 4; i++)
            {
                callers.Add(ChildProcess.Start("task-caller", broker.SocketPath, "echo", "500"));
            }

            foreach (ChildProcess caller in callers)
            {
                Assert.Equal("DONE 500 0", caller.WaitForLine("DONE"));
            }
        }
        finally
        {
            foreach (ChildProcess caller in callers)
            {
                caller.Dispose();
            }
        }

        await Task.CompletedTask;
    }
}
