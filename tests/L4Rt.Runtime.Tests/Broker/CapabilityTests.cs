using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>Capability checks against the real broker; several tasks may live in this one test process.</summary>
[Collection(ProcessCollection.Name)]
public sealed class CapabilityTests : IDisposable
{
    private readonly BrokerProcess _broker = new();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public async Task Invoke_SlotNotHeld_IsInvalidCapability()
    {
        await using L4Task task = await _broker.ConnectAsync();
        Capability bogus = new(task, 999, CapKind.Gate, CapRights.All);
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => bogus.DeleteAsync());
        Assert.Equal(L4Status.InvalidCapability, e.Status);

        using L4Thread me = new();
        Gate notAGate = new(task, 999, CapRights.All);
        Assert.Equal(L4Status.InvalidCapability, me.Call(notAGate, new MsgTag(1), L4Timeout.Zero).Status);

        // A slot holding another kind of object is no gate either.
        Gate factoryAsGate = new(task, task.Factory.Slot, CapRights.All);
        Assert.Equal(L4Status.InvalidCapability, me.Call(factoryAsGate, new MsgTag(1), L4Timeout.Zero).Status);
    }

    [Fact]
    public async Task Call_GateMappedWithoutSendRight_IsNoRights()
    {
        await using L4Task owner = await _broker.ConnectAsync("owner");
        await using L4Task other = await _broker.ConnectAsync("other");
        using L4Thread server = await owner.CreateThreadAsync();
        Gate gate = await owner.Factory.CreateGateAsync(server, 1);
        await owner.Names.RegisterAsync("no-send", gate, CapRights.Map);
        Gate mapped = await other.Names.QueryAsync<Gate>("no-send", TimeSpan.FromSeconds(5));
        Assert.Equal(CapRights.Map, mapped.Rights);
        using L4Thread me = new();
        Assert.Equal(L4Status.NoRights, me.Call(mapped, new MsgTag(1), L4Timeout.Zero).Status);
    }

    [Fact]
    public async Task Map_RightsCanOnlyShrink_AndDeletingTheSourceRevokesTheCopy()
    {
        await using L4Task a = await _broker.ConnectAsync("a");
        await using L4Task b = await _broker.ConnectAsync("b");
        using L4Thread server = await a.CreateThreadAsync();
        Gate gate = await a.Factory.CreateGateAsync(server, 5);

        // b publishes its task capability so a can map into it.
        await b.Names.RegisterAsync("task-b", b.Self, CapRights.Map | CapRights.Write);
        Capability taskB = await a.Names.QueryAsync("task-b", TimeSpan.FromSeconds(5));
        Assert.Equal(CapKind.Task, taskB.Kind);

        // Map with fewer rights (send only, requested together with a right the copy cannot gain).
        Capability registered = await a.Names.QueryAsync("task-b", TimeSpan.Zero);
        int slotInB = await gate.MapToAsync(taskB, CapRights.Send);
        Gate inB = await b.GetCapabilityAsync<Gate>(slotInB); // the public way for b to use what it was given
        Assert.Equal(CapRights.Send, inB.Rights);
        using L4Thread caller = new();
        Thread serving = StartEcho(server, 3);
        Assert.Equal(L4Status.Ok, caller.Call(inB, new MsgTag(1, 1), L4Timeout.FromMilliseconds(5000)).Status);

        // The copy cannot be mapped further: it lacks the map right.
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => new Capability(b, slotInB, CapKind.Gate, CapRights.Send).MapToAsync(b.Self, CapRights.All));
        Assert.Equal(L4Status.NoRights, e.Status);

        // Deleting a's original destroys the gate: b's copy is revoked with it.
        await gate.DeleteAsync();
        L4Status after = caller.Call(inB, new MsgTag(1, 1), L4Timeout.FromMilliseconds(2000)).Status;
        Assert.True(after is L4Status.DestinationDeleted or L4Status.InvalidCapability, $"call after revocation returned {after}");
        L4RtException gone = await Assert.ThrowsAsync<L4RtException>(() => new Capability(b, slotInB, CapKind.Gate, CapRights.Send).DeleteAsync());
        Assert.Equal(L4Status.InvalidCapability, gone.Status);
        server.Abort();
        serving.Join();
        Assert.NotNull(registered);
    }

    [Fact]
    public async Task Factory_BeyondObjectQuota_FailsAndChangesNothing_DeleteRefunds()
    {
        await using L4Task task = await _broker.ConnectAsync();
        using L4Thread thread = await task.CreateThreadAsync();
        Factory small = await task.Factory.CreateFactoryAsync(bytes: 0, objects: 2);
        Gate first = await small.CreateGateAsync(thread, 1);
        await small.CreateGateAsync(thread, 2);
        FactoryUsage before = await small.GetUsageAsync();
        Assert.Equal(new FactoryUsage(0, 0, 2, 2, 256, 1), before); // descriptors: the task's budget, one doorbell held

        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => small.CreateGateAsync(thread, 3));
        Assert.Equal(L4Status.QuotaExceeded, e.Status);
        Assert.Equal(before, await small.GetUsageAsync()); // nothing half-created

        await first.DeleteAsync();
        Assert.Equal(1, (await small.GetUsageAsync()).UsedObjects);
        await small.CreateGateAsync(thread, 3); // the refund made room
    }

    [Fact]
    public async Task Factory_BeyondByteQuota_NoThreadCreated_UsageUnchanged()
    {
        await using L4Task task = await _broker.ConnectAsync();
        Factory tiny = await task.Factory.CreateFactoryAsync(bytes: 1000, objects: 10);
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => tiny.CreateThreadAsync());
        Assert.Equal(L4Status.QuotaExceeded, e.Status);
        Assert.Equal(new FactoryUsage(1000, 0, 10, 0, 256, 0), await tiny.GetUsageAsync());
    }

    [Fact]
    public async Task ChildFactory_ChargesItsWholeQuotaToTheParent_AndRefundsOnDelete()
    {
        await using L4Task task = await _broker.ConnectAsync();
        FactoryUsage start = await task.Factory.GetUsageAsync();
        Factory child = await task.Factory.CreateFactoryAsync(bytes: 1 << 20, objects: 10);
        FactoryUsage charged = await task.Factory.GetUsageAsync();
        Assert.Equal(start.UsedBytes + (1 << 20), charged.UsedBytes);
        Assert.Equal(start.UsedObjects + 11, charged.UsedObjects);

        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => task.Factory.CreateFactoryAsync(bytes: long.MaxValue / 2, objects: 1));
        Assert.Equal(L4Status.QuotaExceeded, e.Status);

        await child.DeleteAsync();
        Assert.Equal(start, await task.Factory.GetUsageAsync());
    }

    [Fact]
    public async Task Status_NeverShowsLabelsOrAnotherTasksSlots()
    {
        await using L4Task a = await _broker.ConnectAsync("a");
        await using L4Task b = await _broker.ConnectAsync("b");
        using L4Thread thread = await a.CreateThreadAsync();
        const ulong Secret = 0x5EC2E7_1AB31UL;
        Gate gate = await a.Factory.CreateGateAsync(thread, Secret);
        await a.Names.RegisterAsync("secret-gate", gate);
        string status = await b.GetBrokerStatusJsonAsync();
        Assert.Contains("secret-gate", status, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret.ToString(System.Globalization.CultureInfo.InvariantCulture), status, StringComparison.Ordinal);
        Assert.DoesNotContain("label", status, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("slot", status, StringComparison.OrdinalIgnoreCase);

        // b's copy lives at a slot of b's own numbering; Gate exposes no label at all.
        Gate copy = await b.Names.QueryAsync<Gate>("secret-gate", TimeSpan.Zero);
        Assert.Equal(3, copy.Slot); // b's first free slot after task, factory, name service
    }

    [Fact]
    public async Task Names_WaitForName_List_Unregister_AndValidation()
    {
        await using L4Task a = await _broker.ConnectAsync("a");
        await using L4Task b = await _broker.ConnectAsync("b");
        using L4Thread thread = await a.CreateThreadAsync();
        Gate gate = await a.Factory.CreateGateAsync(thread, 1);

        Task<Gate> waiting = b.Names.QueryAsync<Gate>("late/service", TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        await a.Names.RegisterAsync("late/service", gate);
        Assert.Equal(CapKind.Gate, (await waiting).Kind);

        L4RtException notFound = await Assert.ThrowsAsync<L4RtException>(() => b.Names.QueryAsync("missing", TimeSpan.FromMilliseconds(50)));
        Assert.Equal(L4Status.NameNotFound, notFound.Status);

        L4RtException taken = await Assert.ThrowsAsync<L4RtException>(() => b.Names.RegisterAsync("late/service", b.Self));
        Assert.Equal(L4Status.AlreadyExists, taken.Status);
        Assert.Contains("already registered", taken.Message, StringComparison.Ordinal);

        IReadOnlyList<NameInfo> names = await b.Names.ListAsync();
        NameInfo entry = Assert.Single(names, n => n.Name == "late/service");
        Assert.Equal(a.Id, entry.RegistrantTaskId);

        L4RtException notYours = await Assert.ThrowsAsync<L4RtException>(() => b.Names.UnregisterAsync("late/service"));
        Assert.Equal(L4Status.NoRights, notYours.Status);
        await a.Names.UnregisterAsync("late/service");
        Assert.DoesNotContain(await b.Names.ListAsync(), n => n.Name == "late/service");

        foreach (string bad in new[] { "", "/abs", ".hidden", "white space", "ümlaut", new string('x', 129) })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => a.Names.RegisterAsync(bad, gate));
        }
    }

    [Fact]
    public async Task Irq_TriggersWhileReceiverBusy_CoalesceIntoOneDeliveryWithTheLabel()
    {
        await using L4Task task = await _broker.ConnectAsync();
        using L4Thread receiver = await task.CreateThreadAsync();
        Irq irq = await task.Factory.CreateIrqAsync(receiver, label: 77);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(L4Status.Ok, irq.Trigger());
        }

        await irq.TriggerViaBrokerAsync();
        IpcResult r = receiver.Wait(L4Timeout.FromMilliseconds(5000));
        Assert.Equal(L4Status.Ok, r.Status);
        Assert.Equal(SystemProtocol.Irq, r.Tag.Protocol);
        Assert.Equal(77UL, r.Label);
        Assert.Equal(6UL, receiver.Utcb.Mr[0]);
        Assert.Equal(L4Status.ReceiveTimeout, receiver.Wait(L4Timeout.FromMilliseconds(20)).Status); // coalesced: nothing more
    }

    [Fact]
    public async Task IrqsTriggeredDirectly_LeaveTheTasksListWhenDeletedOrFoundDead()
    {
        await using L4Task task = await _broker.ConnectAsync();
        L4Thread receiver = await task.CreateThreadAsync();
        List<Irq> irqs = [];
        for (int i = 0; i < 20; i++)
        {
            Irq irq = await task.Factory.CreateIrqAsync(receiver, (ulong)i);
            Assert.Equal(L4Status.Ok, irq.Trigger()); // maps it: now tracked
            irqs.Add(irq);
        }

        Assert.Equal(20, task.TrackedIrqCount);
        foreach (Irq irq in irqs.Take(10))
        {
            await irq.DeleteAsync();
        }

        Assert.Equal(10, task.TrackedIrqCount); // used to stay at 20 for the task's life
        receiver.Dispose(); // the broker destroys the thread's IRQs
        foreach (Irq irq in irqs.Skip(10))
        {
            Assert.True(SpinWait.SpinUntil(() => irq.Trigger() == L4Status.DestinationDeleted, TimeSpan.FromSeconds(10)));
        }

        Assert.Equal(0, task.TrackedIrqCount);
    }

    [Fact]
    public async Task GetCapability_TypedByWhatTheSlotNames_WrongKindOrEmptySlotSaySo()
    {
        await using L4Task task = await _broker.ConnectAsync();
        Channel channel = await task.Factory.CreateChannelAsync(1 << 16);
        Capability described = await task.GetCapabilityAsync(channel.Slot);
        Assert.IsType<Channel>(described);
        Assert.Equal((CapKind.Channel, CapRights.All), (described.Kind, described.Rights));
        L4RtException kind = await Assert.ThrowsAsync<L4RtException>(() => task.GetCapabilityAsync<Gate>(channel.Slot));
        Assert.Equal(L4Status.InvalidCapability, kind.Status);
        Assert.Contains($"slot {channel.Slot} names a Channel, not a Gate", kind.Message, StringComparison.Ordinal);
        Assert.Equal(L4Status.InvalidCapability, (await Assert.ThrowsAsync<L4RtException>(() => task.GetCapabilityAsync(4242))).Status);
    }

    [Fact]
    public async Task ClosedWait_OnABrokerGateSendersLink_AndOnAnIrq_OthersStayPending()
    {
        await using L4Task task = await _broker.ConnectAsync();
        using L4Thread server = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(server, label: 5);
        Irq irq = await task.Factory.CreateIrqAsync(server, label: 9);
        using L4Thread sender = new();
        Assert.Null(server.LastSource);

        IpcResult first = ReceiveWhileSending(server, sender, gate, 1, () => server.Wait(L4Timeout.FromMilliseconds(10_000)));
        Assert.Equal((L4Status.Ok, 5UL, 1UL), (first.Status, first.Label, server.Utcb.Mr[0]));
        ReceiveLink fromSender = Assert.IsType<ReceiveLink>(server.LastSource);
        Assert.False(fromSender.IsIrq);

        // The IRQ is pending first, but a closed wait on the sender's link takes only that sender's next message.
        Assert.Equal(L4Status.Ok, irq.Trigger());
        IpcResult closed = ReceiveWhileSending(server, sender, gate, 2, () => server.Receive(fromSender, L4Timeout.FromMilliseconds(10_000)));
        Assert.Equal((L4Status.Ok, 5UL, 2UL), (closed.Status, closed.Label, server.Utcb.Mr[0]));
        IpcResult irqFirst = server.Wait(L4Timeout.Zero);
        Assert.Equal((L4Status.Ok, 9UL), (irqFirst.Status, irqFirst.Label)); // still there
        ReceiveLink fromIrq = Assert.IsType<ReceiveLink>(server.LastSource);
        Assert.True(fromIrq.IsIrq);

        // And the other way round: a message is posted (its sender blocked in Send), a closed wait on the IRQ ignores it.
        Thread sending = new(() =>
        {
            sender.Utcb.Mr[0] = 3;
            sender.Send(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
        });
        sending.Start();
        Assert.True(SpinWait.SpinUntil(() => LinkState.Code(fromSender.Region.Layout.StateWord.ReadAcquire()) == LinkState.Posted, TimeSpan.FromSeconds(10)), "the message was never posted");
        Assert.Equal(L4Status.Ok, irq.Trigger());
        IpcResult onIrq = server.Receive(fromIrq, L4Timeout.FromMilliseconds(10_000));
        Assert.Equal((L4Status.Ok, 9UL, SystemProtocol.Irq), (onIrq.Status, onIrq.Label, onIrq.Tag.Protocol));
        IpcResult message = server.Wait(L4Timeout.FromMilliseconds(10_000));
        sending.Join();
        Assert.Equal((L4Status.Ok, 5UL, 3UL), (message.Status, message.Label, server.Utcb.Mr[0]));
    }

    [Fact]
    public async Task ServerRestarted_OldGateSaysDestinationDeleted_QueryingTheNameAgainReachesTheNewServer()
    {
        await using L4Task client = await _broker.ConnectAsync("client");
        using L4Thread me = new();
        Gate gate;
        using (ChildProcess first = ChildProcess.Start("task-server", _broker.SocketPath, "svc/restart", "1", "echo"))
        {
            first.WaitForLine("READY");
            gate = await client.Names.QueryAsync<Gate>("svc/restart", TimeSpan.FromSeconds(10));
            me.Utcb.Mr[0] = 41;
            Assert.Equal(L4Status.Ok, me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status);
            Assert.Equal(42UL, me.Utcb.Mr[0]);
            first.Kill();
        }

        Assert.Equal(L4Status.DestinationDeleted, me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status);
        using ChildProcess second = ChildProcess.Start("task-server", _broker.SocketPath, "svc/restart", "1", "echo");
        second.WaitForLine("READY");
        Gate again = await client.Names.QueryAsync<Gate>("svc/restart", TimeSpan.FromSeconds(10)); // the documented way back
        me.Utcb.Mr[0] = 1;
        Assert.Equal(L4Status.Ok, me.Call(again, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status);
        Assert.Equal(2UL, me.Utcb.Mr[0]);
    }

    /// <summary>Sends <paramref name="word"/> through <paramref name="gate"/> from another OS thread while <paramref name="receive"/> runs here.</summary>
    private static IpcResult ReceiveWhileSending(L4Thread server, L4Thread sender, Gate gate, ulong word, Func<IpcResult> receive)
    {
        IpcResult sent = default;
        Thread sending = new(() =>
        {
            sender.Utcb.Mr[0] = word;
            sent = sender.Send(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
        });
        sending.Start();
        IpcResult received = receive();
        sending.Join();
        Assert.Equal(L4Status.Ok, sent.Status);
        GC.KeepAlive(server);
        return received;
    }

    internal static Thread StartEcho(L4Thread server, int calls)
    {
        Thread serving = new(() =>
        {
            IpcResult msg = server.Wait(L4Timeout.FromMilliseconds(10_000));
            for (int i = 1; i < calls && msg.IsOk; i++)
            {
                msg = server.ReplyAndWait(msg.Tag, L4Timeout.FromMilliseconds(10_000));
            }

            if (msg.IsOk)
            {
                server.Reply(msg.Tag);
            }
        });
        serving.Start();
        return serving;
    }
}
