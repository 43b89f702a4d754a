using System.Text;
using L4Rt.Broker;
using L4Rt.Broker.Kernel;
using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using L4Rt.Tests.Support;
using Msg = L4Rt.Protocol.Messages;
using Cap = L4Rt.Tests.Properties.KernelModel.Cap;
using ModelTask = L4Rt.Tests.Properties.KernelModel.ModelTask;
using Obj = L4Rt.Tests.Properties.KernelModel.Obj;

namespace L4Rt.Tests.Properties;

/// <summary>
/// Runs a sequence of <see cref="KernelOp"/>s against a fresh in-process kernel and the <see cref="KernelModel"/> side
/// by side. Before each step it predicts the status from the model; after it, it checks the kernel's own invariants
/// (<see cref="KernelInvariants"/>) and that the kernel holds exactly what the model holds: the same capabilities in
/// the same slots with the same rights, derived from the same parents; the same names; each factory's use. A refused
/// request must leave the kernel as it was, byte for byte of <see cref="Fingerprint"/>. When the sequence ends every
/// task disconnects, and the kernel must be empty.
/// </summary>
internal sealed class KernelRun : IDisposable
{
    private const int Label = 7;

    private readonly KernelHarness _harness;
    private readonly KernelModel _model;
    private readonly ModelTask?[] _tasks;
    private readonly StringBuilder _trace = new();
    private readonly BrokerOptions _options;
    private int _nextPid = 1000;

    internal KernelRun(int tasks)
    {
        _options = Options();
        _harness = new KernelHarness(_options);
        _model = new KernelModel(_options.TaskQuotaFds);
        _tasks = new ModelTask?[tasks];
        for (int i = 0; i < tasks; i++)
        {
            Join(i);
        }
    }

    /// <summary>Small quotas, so that sequences reach them: 16 pages, 10 objects and 6 descriptors a task.</summary>
    internal static BrokerOptions Options() => new()
    {
        TaskQuotaBytes = 16 * KernelModel.PageSize,
        TaskQuotaObjects = 10,
        TaskQuotaFds = 6,
        AckTimeout = TimeSpan.FromMinutes(10), // the run acknowledges at once; no timer may fire in between
    };

    /// <summary>Runs <paramref name="ops"/> over <paramref name="tasks"/> tasks; a violation throws with the steps that led to it.</summary>
    internal static void Check(int tasks, IEnumerable<KernelOp> ops)
    {
        using KernelRun run = new(tasks);
        try
        {
            foreach (KernelOp op in ops)
            {
                run.Step(op);
            }

            run.DisconnectAll();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n  steps run (model's view):\n{run._trace}");
        }
    }

    /// <summary>
    /// The shortest sequence found by dropping steps from <paramref name="ops"/> (halves, quarters, … single steps) that
    /// still fails with the same violation (its first line, numbers aside): CsCheck's shrinking resamples, which leaves
    /// long sequences; this makes the one printed readable.
    /// </summary>
    internal static KernelOp[] Minimize(int tasks, KernelOp[] ops)
    {
        string? target = Violation(tasks, ops);
        if (target is null)
        {
            return ops;
        }

        for (int chunk = Math.Max(1, ops.Length / 2); chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= ops.Length;)
            {
                KernelOp[] candidate = [.. ops[..start], .. ops[(start + chunk)..]];
                if (Violation(tasks, candidate) == target)
                {
                    ops = candidate;
                }
                else
                {
                    start += chunk;
                }
            }
        }

        return ops;
    }

    /// <summary>The violation <paramref name="ops"/> end in, its first line with the numbers taken out; null if none.</summary>
    private static string? Violation(int tasks, KernelOp[] ops)
    {
        try
        {
            Check(tasks, ops);
            return null;
        }
        catch (Xunit.Sdk.XunitException e)
        {
            return new string([.. e.Message.Split('\n')[0].Where(c => !char.IsAsciiDigit(c))]);
        }
    }

    internal void Step(KernelOp op)
    {
        ModelTask task = _tasks[op.Task]!;
        _trace.Append("    ").Append(op).Append(" → ");
        switch (op.Kind)
        {
            case OpKind.CreateThread:
                CreateThread(task, op);
                break;
            case OpKind.CreateGate:
            case OpKind.CreateIrq:
                CreateGateOrIrq(task, op);
                break;
            case OpKind.CreateDataspace:
                CreateDataspace(task, op);
                break;
            case OpKind.CreateChannel:
                CreateChannel(task, op);
                break;
            case OpKind.CreateFactory:
                CreateFactory(task, op);
                break;
            case OpKind.NameRegister:
                NameRegister(task, op);
                break;
            case OpKind.NameQuery:
                NameQuery(task, op);
                break;
            case OpKind.NameUnregister:
                NameUnregister(task, op);
                break;
            case OpKind.Map:
                Map(task, op);
                break;
            case OpKind.Send:
                Send(task, op);
                break;
            case OpKind.Delete:
                Delete(task, op);
                break;
            case OpKind.CapInfo:
                CapInfo(task, op);
                break;
            case OpKind.FactoryUsage:
                FactoryUsage(task, op);
                break;
            case OpKind.Kill:
                Kill(task);
                break;
            case OpKind.Join:
                Rejoin(op.Task);
                break;
        }

        _trace.AppendLine();
        Compare();
    }

    /// <summary>
    /// Every task disconnects, one after the other, each death checked like a step; then nothing may remain — no task,
    /// object, capability, name, quota used or descriptor.
    /// </summary>
    internal void DisconnectAll()
    {
        foreach (ModelTask? task in _tasks)
        {
            if (task is { Alive: true })
            {
                _trace.Append($"    (t{task.Index} disconnects)").AppendLine();
                _harness.Kernel.TaskDisconnected(task.Port);
                _model.Kill(task);
                Compare();
            }
        }

        (TaskObject[] tasks, NameEntry[] names, int pending) = _harness.Kernel.Inspect();
        KernelInvariants.Holds(tasks.Length == 0 && names.Length == 0 && pending == 0, $"after every task left: {tasks.Length} tasks, {names.Length} names, {pending} pending notifications or queries");
        KernelInvariants.Holds(_harness.Fds.InUse == 0, $"after every task left the broker still holds {_harness.Fds.InUse} descriptors for tasks");
        foreach (Obj obj in _model.Objects)
        {
            KernelObject kernel = obj.Kernel!;
            KernelInvariants.Holds(kernel.Destroyed || kernel is NamespaceObject, $"after every task left {kernel.Kind} {kernel.Id} is not destroyed");
            KernelInvariants.Holds(kernel.Caps.Count == 0, $"after every task left {kernel.Kind} {kernel.Id} still has {kernel.Caps.Count} capabilities");
            if (kernel is FactoryObject factory)
            {
                KernelInvariants.Holds(factory.UsedBytes == 0 && factory.UsedObjects == 0 && factory.UsedFds == 0, $"after every task left factory {factory.Id} still counts {factory.UsedBytes} bytes, {factory.UsedObjects} objects, {factory.UsedFds} descriptors");
            }
        }
    }

    public void Dispose() => _harness.Dispose();

    private void Join(int index)
    {
        RecordingPort port = new(_nextPid++);
        Msg.Hello.Reply hello = _harness.Join(port);
        ModelTask task = _model.Join(index, port, _options.TaskQuotaBytes, _options.TaskQuotaObjects, (hello.TaskSlot, hello.FactorySlot, hello.NamespaceSlot));
        task.Self.Kernel = port.Task;
        task.Root.Kernel = port.Task!.RootFactory;
        _model.Namespace.Kernel ??= port.Task.Space.Get(hello.NamespaceSlot)!.Object;
        _model.Tasks.Add(task);
        _tasks[index] = task;
    }

    private void Rejoin(int index)
    {
        ModelTask task = _tasks[index]!;
        if (task.Alive)
        {
            // A second Hello on a connection: refused, nothing changes.
            Same(L4Status.ProtocolViolation, Call(task, new Msg.Hello.Request(ProtocolLimits.ProtocolVersion, "again"), out _));
            return;
        }

        Join(index);
        _trace.Append($"joined as task {_tasks[index]!.Kernel.Id}");
    }

    private void Kill(ModelTask task)
    {
        string before = Fingerprint();
        _harness.Kernel.TaskDisconnected(task.Port);
        if (task.Alive)
        {
            _model.Kill(task);
            _trace.Append("gone");
        }
        else
        {
            KernelInvariants.Holds(Fingerprint() == before, "a second disconnection of a task that is gone changed the kernel");
            _trace.Append("(was gone)");
        }
    }

    private void CreateThread(ModelTask task, KernelOp op)
    {
        Cap? factory = Pick(task, op.A, CapKind.Factory, out int factorySlot);
        L4Status predicted = Then(KernelModel.Expect(factory, CapKind.Factory, CapRights.Write), () => _model.Charge(factory!.Obj, DoorbellLayout.RegionSize, 1, 1));
        using DoorbellRegion doorbell = DoorbellRegion.Create();
        L4Status actual = Call(task, new Msg.CreateThread.Request(factorySlot, KernelHarness.Dup(doorbell)), out Msg.CreateThread.Reply reply);
        if (Same(predicted, actual))
        {
            Created(task, new Obj(CapKind.Thread, task) { Factory = factory!.Obj, Bytes = DoorbellLayout.RegionSize, Objects = 1, Fds = 1, ThreadId = reply.ThreadId }, reply.Slot);
        }
    }

    private void CreateGateOrIrq(ModelTask task, KernelOp op)
    {
        bool irq = op.Kind == OpKind.CreateIrq;
        Cap? factory = Pick(task, op.A, CapKind.Factory, out int factorySlot);
        Cap? thread = Pick(task, op.B, CapKind.Thread, out int threadSlot);
        L4Status predicted = Then(
            Then(KernelModel.Expect(factory, CapKind.Factory, CapRights.Write), () => KernelModel.Expect(thread, CapKind.Thread, CapRights.Write)),
            () => irq ? _model.Charge(factory!.Obj, LinkLayout.RegionSize, 1, 1) : _model.Charge(factory!.Obj, 0, 1, 0));
        if (!irq)
        {
            L4Status actual = Call(task, new Msg.CreateGate.Request(factorySlot, threadSlot, Label), out SlotReply reply);
            if (Same(predicted, actual))
            {
                Created(task, new Obj(CapKind.Gate, task) { Factory = factory!.Obj, Objects = 1, Thread = thread!.Obj }, reply.Slot);
            }

            return;
        }

        // An IRQ is answered when the receiving thread's task acknowledges it; the run acknowledges at once, or refuses.
        string before = Fingerprint();
        int responses = task.Port.Responses.Count;
        if (!Same(predicted, Call(task, new Msg.CreateIrq.Request(factorySlot, threadSlot, Label), out SlotReply _)))
        {
            return;
        }

        ModelTask receiver = thread!.Obj.Creator!;
        (Opcode opcode, uint id, _, _) = receiver.Port.Notifications[^1];
        Assert.Equal(Opcode.NewIrq, opcode);
        _harness.Kernel.CompleteAck(receiver.Port, id, op.Flag ? L4Status.Ok : L4Status.Aborted);
        (Opcode answered, _, Reply deferred) = Assert.Single(task.Port.Responses.Skip(responses));
        Assert.Equal(Opcode.CreateIrq, answered);
        if (!op.Flag)
        {
            Same(L4Status.Aborted, deferred.Status);
            KernelInvariants.Holds(Fingerprint() == before, "an IRQ its receiver refused left something behind");
            return;
        }

        Same(L4Status.Ok, deferred.Status);
        FrameReader reader = new(deferred.Payload!.Span);
        SlotReply slot = SlotReply.Read(ref reader, []);
        Created(task, new Obj(CapKind.Irq, task) { Factory = factory!.Obj, Bytes = LinkLayout.RegionSize, Objects = 1, Fds = 1, Thread = thread.Obj }, slot.Slot);
    }

    private void CreateDataspace(ModelTask task, KernelOp op)
    {
        Cap? factory = Pick(task, op.A, CapKind.Factory, out int factorySlot);
        long size = op.N * KernelModel.PageSize;
        L4Status predicted = Then(
            Then(KernelModel.Expect(factory, CapKind.Factory, CapRights.Write), () => size == 0 ? L4Status.InvalidArgument : L4Status.Ok),
            () => _model.Charge(factory!.Obj, size, 1, 2));
        L4Status actual = Call(task, new Msg.CreateDataspace.Request(factorySlot, size), out SlotReply reply);
        if (Same(predicted, actual))
        {
            Created(task, new Obj(CapKind.Dataspace, task) { Factory = factory!.Obj, Bytes = size, Objects = 1, Fds = 2 }, reply.Slot);
        }
    }

    private void CreateChannel(ModelTask task, KernelOp op)
    {
        Cap? factory = Pick(task, op.A, CapKind.Factory, out int factorySlot);
        long capacity = op.N == 0 ? ChannelRegion.MinCapacity - 1 : ChannelRegion.MinCapacity;
        long bytes = ChannelRegion.RegionSize(capacity);
        L4Status predicted = Then(
            Then(KernelModel.Expect(factory, CapKind.Factory, CapRights.Write), () => op.N == 0 ? L4Status.InvalidArgument : L4Status.Ok),
            () => _model.Charge(factory!.Obj, bytes, 1, 1));
        L4Status actual = Call(task, new Msg.CreateChannel.Request(factorySlot, capacity), out SlotReply reply);
        if (Same(predicted, actual))
        {
            Created(task, new Obj(CapKind.Channel, task) { Factory = factory!.Obj, Bytes = bytes, Objects = 1, Fds = 1 }, reply.Slot);
        }
    }

    private void CreateFactory(ModelTask task, KernelOp op)
    {
        Cap? parent = Pick(task, op.A, CapKind.Factory, out int parentSlot);
        long bytes = op.Flag && op.N == 0 ? -1 : op.N * KernelModel.PageSize;
        int objects = op.B & 3;
        L4Status predicted = Then(
            Then(KernelModel.Expect(parent, CapKind.Factory, CapRights.Write), () => bytes < 0 ? L4Status.InvalidArgument : L4Status.Ok),
            () => _model.Charge(parent!.Obj, bytes, objects + 1, 0));
        L4Status actual = Call(task, new Msg.CreateFactory.Request(parentSlot, bytes, objects), out SlotReply reply);
        if (Same(predicted, actual))
        {
            Created(task, new Obj(CapKind.Factory, task) { Factory = parent!.Obj, Bytes = bytes, Objects = objects + 1, QuotaBytes = bytes, QuotaObjects = objects, ParentFactory = parent.Obj }, reply.Slot);
        }
    }

    private void NameRegister(ModelTask task, KernelOp op)
    {
        Cap? space = task.Slots.GetValueOrDefault(task.NamespaceSlot);
        Cap? source = Pick(task, op.A, null, out int sourceSlot);
        string name = op.Name;
        L4Status predicted = Then(KernelModel.Expect(space, CapKind.Namespace, CapRights.Write), () =>
            source is null ? L4Status.InvalidCapability
            : !source.Has(CapRights.Map) ? L4Status.NoRights
            : _model.Names.ContainsKey(name) ? L4Status.AlreadyExists
            : _model.Charge(task.Root, 0, 1, 0));
        L4Status actual = Call(task, new Msg.NameRegister.Request(task.NamespaceSlot, sourceSlot, op.Rights, name), out Empty _);
        if (Same(predicted, actual))
        {
            Cap held = new(source!.Obj, source.Rights & op.Rights & ~CapRights.Delete, null, source) { Name = name };
            source.Children.Add(held);
            source.Obj.Caps.Add(held);
            _model.Names[name] = new KernelModel.Entry(held, task, task.Root);
        }
    }

    private void NameQuery(ModelTask task, KernelOp op)
    {
        Cap? space = task.Slots.GetValueOrDefault(task.NamespaceSlot);
        string name = Registered(op);
        L4Status predicted = Then(KernelModel.Expect(space, CapKind.Namespace, CapRights.Send), () => _model.Names.ContainsKey(name) ? L4Status.Ok : L4Status.NameNotFound);
        L4Status actual = Call(task, new Msg.NameQuery.Request(task.NamespaceSlot, 0, name), out Msg.NameQuery.Reply reply);
        if (Same(predicted, actual))
        {
            Cap held = _model.Names[name].Held;
            Landed(task, new Cap(held.Obj, held.Rights, task, held), reply.Slot);
            Assert.Equal((held.Obj.Kind, held.Rights), (reply.Kind, reply.Rights));
        }
    }

    private void NameUnregister(ModelTask task, KernelOp op)
    {
        Cap? space = task.Slots.GetValueOrDefault(task.NamespaceSlot);
        string name = Registered(op);
        L4Status predicted = Then(KernelModel.Expect(space, CapKind.Namespace, CapRights.Write), () =>
            !_model.Names.TryGetValue(name, out KernelModel.Entry? entry) ? L4Status.NameNotFound
            : entry.Registrant != task ? L4Status.NoRights
            : L4Status.Ok);
        L4Status actual = Call(task, new Msg.NameUnregister.Request(task.NamespaceSlot, name), out Empty _);
        if (Same(predicted, actual))
        {
            // What was handed out stays valid, now derived from the registrant's own capability.
            Cap held = _model.Names[name].Held;
            foreach (Cap child in held.Children.ToList())
            {
                held.Children.Remove(child);
                child.Parent = held.Parent;
                held.Parent?.Children.Add(child);
            }

            _model.Remove(held);
        }
    }

    private void Map(ModelTask task, KernelOp op)
    {
        Cap? source = Pick(task, op.A, null, out int sourceSlot);
        Cap? target = Pick(task, op.B, CapKind.Task, out int targetSlot);
        L4Status predicted =
            source is null || target is null ? L4Status.InvalidCapability
            : !source.Has(CapRights.Map) ? L4Status.NoRights
            : target.Obj.Kind != CapKind.Task ? L4Status.InvalidCapability
            : target.Obj.Dead ? L4Status.DestinationDeleted
            : L4Status.Ok;
        L4Status actual = Call(task, new Msg.Map.Request(sourceSlot, targetSlot, op.Rights), out SlotReply reply);
        if (Same(predicted, actual))
        {
            ModelTask into = _model.Tasks.Single(t => t.Self == target!.Obj);
            Landed(into, new Cap(source!.Obj, source.Rights & op.Rights, into, source), reply.Slot);
        }
    }

    /// <summary>
    /// A message with one capability item through a gate: the sender's link (opened on its first send through that
    /// capability), the offer, and the receiving task's accept — the kernel's one path for map and grant between tasks.
    /// </summary>
    private void Send(ModelTask task, KernelOp op)
    {
        Cap? gate = Pick(task, op.A, CapKind.Gate, out int gateSlot);
        Cap? item = Pick(task, op.B, null, out int itemSlot);
        bool grant = op.Flag;
        KernelModel.Link? link = task.Links.Find(l => l.Through == gate);
        if (link is null)
        {
            L4Status predicted = Then(KernelModel.Expect(gate, CapKind.Gate, CapRights.Send), () => _model.Charge(task.Root, LinkLayout.RegionSize, 0, 1));
            if (!Same(predicted, Call(task, new Msg.GateLink.Request(gateSlot), out Msg.GateLink.Reply opened)))
            {
                return;
            }

            ModelTask owner = gate!.Obj.Thread!.Creator!;
            (Opcode opcode, uint id, byte[] payload, _) = owner.Port.Notifications[^1];
            Assert.Equal(Opcode.NewLink, opcode);
            FrameReader reader = new(payload);
            Msg.NewLink.Notification note = Msg.NewLink.Notification.Read(ref reader, [new SafeFdHandle(-1, ownsHandle: false)]);
            _harness.Kernel.CompleteAck(owner.Port, id, L4Status.Ok);
            link = new KernelModel.Link(task, gate, opened.LinkId, note.Index, task.Root);
            task.Links.Add(link);
            _trace.Append("link, ");
        }

        int seq = ++link.Seq;
        ulong first = 1 | (grant ? 0x10UL : 0) | ((ulong)op.Rights << 8) | ((ulong)(uint)itemSlot << 32);
        L4Status offered = item is null ? L4Status.InvalidCapability : !item.Has(grant ? CapRights.Grant : CapRights.Map) ? L4Status.NoRights : L4Status.Ok;
        if (!Same(offered, Call(task, new Msg.ItemOffer.Request(link.Id, seq, [first, 0]), out Empty _)))
        {
            return;
        }

        Obj thread = gate!.Obj.Thread!;
        ModelTask receiver = thread.Creator!;
        _trace.Append("offered, ");
        L4Status accepted = Call(receiver, new Msg.ItemAccept.Request(thread.ThreadId, link.Index, seq, [Msg.ItemAccept.AnySlot], 0), out Msg.ItemAccept.Reply reply);
        Same(L4Status.Ok, accepted);
        Msg.ItemAccept.Received received = Assert.Single(reply.Items);
        Cap landed = Landed(receiver, grant ? _model.Grant(item!, op.Rights, receiver) : new Cap(item!.Obj, item.Rights & op.Rights, receiver, item), received.Slot);
        Assert.Equal((landed.Obj.Kind, landed.Rights), (received.ObjectKind, received.Rights));
        _trace.Append($" → t{receiver.Index} slot {landed.Slot}");
    }

    private void Delete(ModelTask task, KernelOp op)
    {
        Cap? cap = Pick(task, op.A, null, out int slot);
        if (Same(cap is null ? L4Status.InvalidCapability : L4Status.Ok, Call(task, new Msg.Delete.Request(slot), out Empty _)))
        {
            _model.Delete(cap!);
        }
    }

    private void CapInfo(ModelTask task, KernelOp op)
    {
        Cap? cap = Pick(task, op.A, null, out int slot);
        if (Same(cap is null ? L4Status.InvalidCapability : L4Status.Ok, Call(task, new Msg.CapInfo.Request(slot), out Msg.CapInfo.Reply reply)))
        {
            Assert.Equal((cap!.Obj.Kind, cap.Rights), (reply.Kind, reply.Rights));
        }
    }

    private void FactoryUsage(ModelTask task, KernelOp op)
    {
        Cap? factory = Pick(task, op.A, CapKind.Factory, out int slot);
        if (Same(KernelModel.Expect(factory, CapKind.Factory, CapRights.None), Call(task, new Msg.FactoryUsage.Request(slot), out Msg.FactoryUsage.Reply reply)))
        {
            Obj f = factory!.Obj;
            (long bytes, int objects, _) = _model.Used(f);
            Assert.Equal((f.QuotaBytes, bytes, f.QuotaObjects, objects, _options.TaskQuotaFds, _model.Used(f.Root).Fds), (reply.QuotaBytes, reply.UsedBytes, reply.QuotaObjects, reply.UsedObjects, reply.QuotaFds, reply.UsedFds));
        }
    }

    /// <summary>A query's name: by position among the names registered now (<see cref="KernelOp.B"/> ≥ 0, if any are), else the step's fixed name.</summary>
    private string Registered(KernelOp op)
    {
        string[] names = [.. _model.Names.Keys.Order(StringComparer.Ordinal)];
        string name = op.B >= 0 && names.Length > 0 ? names[op.B % names.Length] : op.Name;
        _trace.Append($"'{name}' ");
        return name;
    }

    /// <summary>
    /// A capability of <paramref name="task"/> by a step's choice: −1 an empty slot, −2 its highest slot whatever the
    /// kind, otherwise one of <paramref name="kind"/> (any, if it holds none of that kind).
    /// </summary>
    private static Cap? Pick(ModelTask task, int choice, CapKind? kind, out int slot)
    {
        List<Cap> caps = [.. task.Slots.Values];
        if (choice == -1 || caps.Count == 0)
        {
            slot = task.LowestFreeSlot() + 3; // past the end or in a hole: nothing there
            while (task.Slots.ContainsKey(slot))
            {
                slot++;
            }

            return null;
        }

        List<Cap> ofKind = kind is null ? caps : [.. caps.Where(c => c.Obj.Kind == kind)];
        Cap cap = choice == -2 ? caps[^1] : ofKind.Count > 0 ? ofKind[choice % ofKind.Count] : caps[choice % caps.Count];
        slot = cap.Slot;
        return cap;
    }

    /// <summary>The object a creation made, bound to the kernel's: its creator's original capability landed in the lowest free slot.</summary>
    private void Created(ModelTask task, Obj obj, int slot)
    {
        _model.Create(task, obj, ExpectSlot(task, slot));
        obj.Kernel = task.Kernel.Space.Get(slot)!.Object;
        _trace.Append($"slot {slot}");
    }

    private Cap Landed(ModelTask task, Cap cap, int slot)
    {
        KernelModel.Install(task, cap, ExpectSlot(task, slot));
        _trace.Append($"slot {slot}");
        return cap;
    }

    private static int ExpectSlot(ModelTask task, int slot)
    {
        KernelInvariants.Holds(slot == task.LowestFreeSlot(), $"t{task.Index}: the capability landed in slot {slot}, not in the lowest free one ({task.LowestFreeSlot()})");
        return slot;
    }

    /// <summary>A request whatever its outcome; a refused one must change nothing.</summary>
    private L4Status Call<T>(ModelTask task, IControlRequest<T> request, out T reply)
        where T : IControlMessage<T>
    {
        string before = Fingerprint();
        L4Status status = _harness.Try(task.Port, request, out reply);
        if (status != L4Status.Ok)
        {
            string after = Fingerprint();
            KernelInvariants.Holds(after == before, $"{request.Opcode} was refused with {status} but changed the kernel:\n  before: {before}\n  after:  {after}");
        }

        return status;
    }

    private bool Same(L4Status predicted, L4Status actual)
    {
        _trace.Append(actual == L4Status.Ok ? "" : actual.ToString());
        KernelInvariants.Holds(predicted == actual, $"the model expected {predicted}, the kernel answered {actual}");
        return actual == L4Status.Ok;
    }

    private static L4Status Then(L4Status first, Func<L4Status> next) => first == L4Status.Ok ? next() : first;

    /// <summary>The kernel holds exactly what the model holds.</summary>
    private void Compare()
    {
        (TaskObject[] tasks, NameEntry[] names, int pending) = _harness.Kernel.Inspect();
        KernelInvariants.Check(tasks, names);
        ModelTask[] alive = [.. _tasks.Where(t => t!.Alive).Select(t => t!)];
        KernelInvariants.Holds(tasks.ToHashSet().SetEquals(alive.Select(t => t.Kernel)), $"the kernel has tasks {string.Join(",", tasks.Select(t => t.Id))}, the model {string.Join(",", alive.Select(t => t.Kernel.Id))}");
        KernelInvariants.Holds(pending == 0, $"{pending} notifications or name queries are pending");
        Dictionary<string, NameEntry> kernelNames = names.ToDictionary(e => e.Name);
        foreach (ModelTask task in alive)
        {
            Dictionary<int, Capability> held = task.Kernel.Space.All.ToDictionary(c => c.Slot);
            KernelInvariants.Holds(held.Keys.Order().SequenceEqual(task.Slots.Keys), $"t{task.Index} holds slots [{string.Join(",", held.Keys.Order())}], the model [{string.Join(",", task.Slots.Keys)}]");
            foreach ((int slot, Cap cap) in task.Slots)
            {
                Same(cap, held[slot], kernelNames);
            }

            KernelInvariants.Holds(task.Kernel.Created.ToHashSet().SetEquals(task.Created.Select(o => o.Kernel!)), $"t{task.Index} created [{string.Join(",", task.Kernel.Created.Select(o => o.Id))}], the model says [{string.Join(",", task.Created.Select(o => o.Kernel!.Id))}]");
        }

        KernelInvariants.Holds(kernelNames.Keys.Order().SequenceEqual(_model.Names.Keys.Order()), $"names [{string.Join(",", kernelNames.Keys.Order())}], the model [{string.Join(",", _model.Names.Keys.Order())}]");
        foreach ((string name, KernelModel.Entry entry) in _model.Names)
        {
            NameEntry actual = kernelNames[name];
            Same(entry.Held, actual.Held, kernelNames);
            KernelInvariants.Holds(actual.Registrant == entry.Registrant.Kernel && actual.ChargedTo == entry.ChargedTo.Kernel, $"name '{name}': another registrant or factory charged");
        }

        foreach (Obj factory in _model.Objects.Where(o => o.Kind == CapKind.Factory && (!o.Dead || o.Creator is { Alive: true } c && c.Root == o)))
        {
            FactoryObject actual = (FactoryObject)factory.Kernel!;
            (long bytes, int objects, int fds) = _model.Used(factory);
            KernelInvariants.Holds(actual.UsedBytes == bytes && actual.UsedObjects == objects, $"factory {actual.Id} uses {actual.UsedBytes} bytes and {actual.UsedObjects} objects, the model {bytes} and {objects}");
            KernelInvariants.Holds(factory.ParentFactory is not null || actual.UsedFds == fds, $"root factory {actual.Id} uses {actual.UsedFds} descriptors, the model {fds}");
        }

        long descriptors = _model.Objects.Where(o => !o.Dead).Sum(o => o.Fds) + _model.LiveLinks().Count();
        KernelInvariants.Holds(_harness.Fds.InUse == descriptors, $"the broker holds {_harness.Fds.InUse} descriptors for tasks, the model {descriptors}");
    }

    /// <summary>A model capability and the kernel's at the same place: same object, same rights, derived from the same parent.</summary>
    private static void Same(Cap model, Capability actual, Dictionary<string, NameEntry> names)
    {
        KernelInvariants.Holds(actual.Object == model.Obj.Kernel, $"{model}: the kernel's names {actual.Object.Kind} {actual.Object.Id}, the model's {model.Obj}");
        KernelInvariants.Holds(actual.Rights == model.Rights, $"{model}: rights {actual.Rights}, the model {model.Rights}");
        Capability? parent = model.Parent is not { } p ? null : p.Owner is { } owner ? owner.Kernel.Space.Get(p.Slot) : names.GetValueOrDefault(p.Name!)?.Held;
        KernelInvariants.Holds(actual.Parent == parent, $"{model}: derived from {(actual.Parent is null ? "nothing" : KernelInvariants.Where(actual.Parent))}, the model says from {model.Parent?.ToString() ?? "nothing"}");
    }

    /// <summary>Everything a request could change, as text: each task's slots (object, rights, parent), links, factories' use, names, descriptors.</summary>
    private string Fingerprint()
    {
        (TaskObject[] tasks, NameEntry[] names, int pending) = _harness.Kernel.Inspect();
        StringBuilder text = new();
        foreach (TaskObject task in tasks.OrderBy(t => t.Id))
        {
            text.Append($"task {task.Id}: ");
            foreach (Capability cap in task.Space.All)
            {
                text.Append($"{cap.Slot}={cap.Object.Kind}{cap.Object.Id}/{(int)cap.Rights}<{Parent(cap)} ");
            }

            text.Append($"links {string.Join(",", task.SendLinks.Select(l => l.Id))}; made {string.Join(",", task.Created.Select(o => o.Id))}; ");
            foreach (FactoryObject factory in task.Created.OfType<FactoryObject>().Prepend(task.RootFactory))
            {
                text.Append($"f{factory.Id}={factory.UsedBytes},{factory.UsedObjects},{factory.UsedFds} ");
            }
        }

        foreach (NameEntry entry in names)
        {
            text.Append($"'{entry.Name}'={entry.Held.Object.Id}/{(int)entry.Held.Rights}<{Parent(entry.Held)} ");
        }

        return text.Append($"fds {_harness.Fds.InUse}, pending {pending}").ToString();

        static string Parent(Capability cap) => cap.Parent is not { } p ? "-" : p.Owner is { } o ? $"{o.Id}.{p.Slot}" : $"'{p.Entry?.Name}'";
    }
}
