using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Microsoft.Win32.SafeHandles;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Broker.Kernel;

internal sealed partial class BrokerKernel
{
    /// <summary>Charges <paramref name="factory"/> first (nothing is created beyond quota), then records the object.</summary>
    private T Charged<T>(TaskObject creator, FactoryObject factory, long bytes, int objects, int fds, Func<T> create)
        where T : KernelObject
    {
        factory.Charge(bytes, objects);
        T obj;
        try
        {
            ChargeFds(factory.Root, fds);
            try
            {
                obj = create();
            }
            catch
            {
                RefundFds(factory.Root, fds);
                throw;
            }
        }
        catch
        {
            factory.Refund(bytes, objects);
            throw;
        }

        obj.Factory = factory;
        obj.ChargedBytes = bytes;
        obj.ChargedObjects = objects;
        obj.ChargedFds = fds;
        factory.Objects.Add(obj);
        creator.Created.Add(obj);
        return obj;
    }

    /// <summary>
    /// Charges descriptors the broker will hold to a task's budget and to the broker's own
    /// (<see cref="FdBudget"/>); either exhausted is <see cref="L4Status.QuotaExceeded"/>, with nothing taken.
    /// </summary>
    private void ChargeFds(FactoryObject root, int count)
    {
        if (count == 0)
        {
            return;
        }

        if (count > root.QuotaFds - root.UsedFds)
        {
            throw new L4RtException(L4Status.QuotaExceeded, $"factory {root.Id}: {count} descriptor(s) requested, {root.QuotaFds - root.UsedFds} of the task's {root.QuotaFds} left");
        }

        if (!_fds.TryTake(count))
        {
            throw new L4RtException(L4Status.QuotaExceeded, $"the broker holds all the descriptors it can for tasks ({_fds.Available}); try again when some are released");
        }

        root.UsedFds += count;
    }

    private void RefundFds(FactoryObject root, int count)
    {
        if (count != 0)
        {
            root.UsedFds -= count;
            _fds.Give(count);
        }
    }

    private Msg.CreateThread.Reply CreateThread(TaskObject task, Msg.CreateThread.Request request)
    {
        ThreadObject thread;
        try
        {
            FactoryObject factory = Expect<FactoryObject>(Lookup(task, request.Factory), CapRights.Write);
            thread = Charged(task, factory, DoorbellLayout.RegionSize, 1, 1, () => new ThreadObject(NextId(), task, DoorbellRegion.Attach(request.Doorbell)));
        }
        catch
        {
            request.Doorbell.Dispose(); // refused before Attach took it (a wrong slot, quota): it must not stay open in the broker
            throw;
        }

        int slot = Install(task, new Capability(thread, CapRights.All, task, null));
        BrokerLog.ObjectCreated(_log, task.Id, "thread", thread.Id);
        return new(slot, (int)thread.Id);
    }

    private SlotReply CreateGate(TaskObject task, Msg.CreateGate.Request request)
    {
        FactoryObject factory = Expect<FactoryObject>(Lookup(task, request.Factory), CapRights.Write);
        ThreadObject thread = Expect<ThreadObject>(Lookup(task, request.Thread), CapRights.Write);
        GateObject gate = Charged(task, factory, 0, 1, 0, () => new GateObject(NextId(), task, thread, request.Label));
        thread.Gates.Add(gate);
        int slot = Install(task, new Capability(gate, CapRights.All, task, null));
        BrokerLog.ObjectCreated(_log, task.Id, "gate", gate.Id);
        return new(slot);
    }

    private SlotReply CreateFactory(TaskObject task, Msg.CreateFactory.Request request)
    {
        FactoryObject parent = Expect<FactoryObject>(Lookup(task, request.Factory), CapRights.Write);
        (long bytes, int objects) = (request.Bytes, request.Objects);
        if (bytes < 0 || objects < 0)
        {
            throw new L4RtException(L4Status.InvalidArgument, "a quota cannot be negative");
        }

        // objects + 1 below must not wrap: int.MaxValue + 1 was a charge of int.MinValue objects, which passed the
        // quota check and left the parent with a negative use, i.e. an unlimited quota (found by the broker fuzz target).
        // No parent has int.MaxValue objects free and one more for the child itself, so this is simply beyond quota.
        if (objects > parent.QuotaObjects - 1)
        {
            throw new L4RtException(L4Status.QuotaExceeded, $"factory {parent.Id}: a sub-quota of {objects} objects, and one for the factory itself, exceeds its quota of {parent.QuotaObjects}");
        }

        // The child's whole quota is carved out of the parent's, plus one object for the factory itself.
        FactoryObject child = Charged(task, parent, bytes, objects + 1, 0, () => new FactoryObject(NextId(), task, bytes, objects, parent));
        int slot = Install(task, new Capability(child, CapRights.All, task, null));
        BrokerLog.ObjectCreated(_log, task.Id, "factory", child.Id);
        return new(slot);
    }

    private static Msg.FactoryUsage.Reply FactoryUsage(TaskObject task, Msg.FactoryUsage.Request request)
    {
        FactoryObject factory = Expect<FactoryObject>(Lookup(task, request.Factory), CapRights.None);
        return new(factory.QuotaBytes, factory.UsedBytes, factory.QuotaObjects, factory.UsedObjects, factory.Root.QuotaFds, factory.Root.UsedFds);
    }

    /// <summary>
    /// The first send of a task's thread on a gate: a link region shared by that sender and the gate's thread.
    /// The receiving task learns the label (only it does) with the region and acknowledges asynchronously.
    /// </summary>
    private Reply GateLink(TaskObject task, Msg.GateLink.Request request)
    {
        Capability cap = Lookup(task, request.Gate);
        GateObject gate = Expect<GateObject>(cap, CapRights.Send);
        ThreadObject thread = gate.Thread;
        TaskObject receiver = thread.Creator!;
        task.RootFactory.Charge(LinkLayout.RegionSize, 0);
        int index;
        LinkRegion region;
        try
        {
            ChargeFds(task.RootFactory, 1);
            try
            {
                index = thread.AllocateIndex();
            }
            catch
            {
                RefundFds(task.RootFactory, 1);
                throw;
            }

            try
            {
                region = LinkRegion.Create(index);
            }
            catch
            {
                thread.FreeIndex(index);
                RefundFds(task.RootFactory, 1);
                throw;
            }
        }
        catch
        {
            task.RootFactory.Refund(LinkLayout.RegionSize, 0);
            throw;
        }

        LinkObject link = new(NextId(), gate, task, region, index) { ChargedTo = task.RootFactory, OpenedThrough = cap };
        gate.Links.Add(link);
        task.SendLinks.Add(link);
        _metrics.LinkCreated();
        link.Installed = true;
        Notify(receiver, Opcode.NewLink, new Msg.NewLink.Notification((int)thread.Id, index, gate.Label, region.Handle), status =>
        {
            if (status != L4Status.Ok && !link.Destroyed)
            {
                DestroyLink(link, notifyReceiver: false); // marks it dead: the sender's next operation returns DestinationDeleted
            }
        });

        // Answer at once rather than after the receiver's ack (two fewer process wake-ups on the setup path).
        // A message that arrives before the receiver installed the link is still found: installing rings the
        // receiver's doorbell, and the unaccounted counter increment makes its next look scan all links.
        return link.Destroyed
            ? Reply.Error(L4Status.DestinationDeleted, "the receiving task is gone")
            : Reply.Of(new Msg.GateLink.Reply(link.Id, region.Handle, thread.Doorbell.Handle));
    }

    /// <summary>A sender closes one of its own links (its thread is gone): quota refunded, the receiver's index freed.</summary>
    private Empty LinkClose(TaskObject task, Msg.LinkClose.Request request)
    {
        long id = request.LinkId;
        LinkObject link = task.SendLinks.Find(l => l.Id == id)
            ?? throw new L4RtException(L4Status.InvalidCapability, $"this task has no link {id}");
        DestroyLink(link, notifyReceiver: true);
        return default;
    }

    private Reply CreateIrq(uint requestId, TaskObject task, Msg.CreateIrq.Request request)
    {
        FactoryObject factory = Expect<FactoryObject>(Lookup(task, request.Factory), CapRights.Write);
        ThreadObject thread = Expect<ThreadObject>(Lookup(task, request.Thread), CapRights.Write);
        ulong label = request.Label;
        int index = -1;
        IrqObject irq = Charged(task, factory, LinkLayout.RegionSize, 1, 1, () =>
        {
            index = thread.AllocateIndex();
            try
            {
                return new IrqObject(NextId(), task, thread, label, LinkRegion.Create(index), index);
            }
            catch
            {
                thread.FreeIndex(index);
                throw;
            }
        });
        thread.Irqs.Add(irq);
        int slot = Install(task, new Capability(irq, CapRights.All, task, null));
        Notify(thread.Creator!, Opcode.NewIrq, new Msg.NewIrq.Notification((int)thread.Id, index, label, irq.Region.Handle), status =>
        {
            if (status == L4Status.Ok && !irq.Destroyed)
            {
                SendDeferred(task, Opcode.CreateIrq, requestId, Reply.Of(new SlotReply(slot)));
            }
            else
            {
                Destroy(irq);
                SendDeferred(task, Opcode.CreateIrq, requestId, Reply.Error(status == L4Status.Ok ? L4Status.DestinationDeleted : status, "the receiving thread did not accept the IRQ"));
            }
        });
        BrokerLog.ObjectCreated(_log, task.Id, "irq", irq.Id);
        return Reply.Later;
    }

    private SlotReply CreateChannel(TaskObject task, Msg.CreateChannel.Request request)
    {
        FactoryObject factory = Expect<FactoryObject>(Lookup(task, request.Factory), CapRights.Write);
        long capacity = request.Capacity;
        if (capacity < ChannelRegion.MinCapacity || capacity > ChannelRegion.MaxCapacity || (capacity & (capacity - 1)) != 0)
        {
            throw new L4RtException(L4Status.InvalidArgument, $"a channel's capacity is a power of two from {ChannelRegion.MinCapacity} to {ChannelRegion.MaxCapacity} bytes");
        }

        ChannelObject channel = Charged(task, factory, ChannelRegion.RegionSize(capacity), 1, 1, () => new ChannelObject(NextId(), task, ChannelRegion.Create(capacity)));
        int slot = Install(task, new Capability(channel, CapRights.All, task, null));
        BrokerLog.ObjectCreated(_log, task.Id, "channel", channel.Id);
        return new(slot);
    }

    /// <summary>
    /// A dataspace: a memfd sealed against shrinking and growing (no holder can turn another's mapping into SIGBUS),
    /// its mode set to 0400 before the read-only descriptor is opened from it. Why not <c>F_SEAL_FUTURE_WRITE</c>:
    /// that seal is a property of the file, so it would take writing away from every holder, the writable ones
    /// included. A separate read-only open is per holder; a holder of it cannot mmap it writable (EACCES), write or
    /// truncate through it (EBADF), add seals (EPERM), or reopen it read-write through <c>/proc/self/fd</c>, since
    /// the mode refuses writing to everyone without CAP_DAC_OVERRIDE (a process running as root could).
    /// </summary>
    private SlotReply CreateDataspace(TaskObject task, Msg.CreateDataspace.Request request) =>
        InstallDataspace(task, request.Factory, request.Size, null, 0, 0);

    /// <summary>
    /// A paged dataspace: an ordinary one (same memfd, same quota) that names a pager gate. The creator's capability to
    /// the gate needs send and map: every task that maps the dataspace gets a send-only capability derived from it.
    /// </summary>
    private SlotReply CreatePagedDataspace(TaskObject task, Msg.CreatePagedDataspace.Request request)
    {
        Capability pager = Lookup(task, request.Pager);
        _ = Expect<GateObject>(pager, CapRights.Send | CapRights.Map);
        int timeout = request.FaultTimeoutMs;
        if (timeout < 1 || timeout > Msg.CreatePagedDataspace.MaxFaultTimeoutMs)
        {
            throw new L4RtException(L4Status.InvalidArgument, $"a fault timeout is 1 to {Msg.CreatePagedDataspace.MaxFaultTimeoutMs} ms; {timeout} is not");
        }

        return InstallDataspace(task, request.Factory, request.Size, pager, request.PagerId, timeout);
    }

    private SlotReply InstallDataspace(TaskObject task, int factorySlot, long size, Capability? pager, ulong pagerId, int faultTimeoutMs)
    {
        FactoryObject factory = Expect<FactoryObject>(Lookup(task, factorySlot), CapRights.Write);
        if (size <= 0 || size > ProtocolLimits.MaxDataspaceSize || size % ProtocolLimits.PageSize != 0)
        {
            throw new L4RtException(L4Status.InvalidArgument, $"a dataspace's size is a whole number of {ProtocolLimits.PageSize}-byte pages, at most {ProtocolLimits.MaxDataspaceSize} bytes; {size} is not");
        }

        DataspaceObject dataspace = Charged(task, factory, size, 1, 2, () =>
        {
            SafeFileHandle readWrite = SharedRegion.CreateSealedFile("l4rt-dataspace", size);
            try
            {
                Libc.Files.Chmod(readWrite, 0x100); // 0400: read-only opens of it stay read-only
                return new DataspaceObject(NextId(), task, readWrite, Libc.Files.ReopenReadOnly(readWrite), size)
                {
                    Pager = pager,
                    PagerId = pagerId,
                    FaultTimeoutMs = faultTimeoutMs,
                };
            }
            catch
            {
                readWrite.Dispose();
                throw;
            }
        });
        int slot = Install(task, new Capability(dataspace, CapRights.All, task, null));
        BrokerLog.ObjectCreated(_log, task.Id, pager is null ? "dataspace" : "paged dataspace", dataspace.Id);
        return new(slot);
    }

    /// <summary>
    /// The memory of a dataspace: read-write with the write right, read-only with the read right; a pager's backing
    /// (paged dataspaces only) with the write right. A paged mapping also gets the pager capability of this task.
    /// </summary>
    private Msg.DataspaceAttach.Reply DataspaceAttach(TaskObject task, Msg.DataspaceAttach.Request request)
    {
        Capability cap = Lookup(task, request.Dataspace);
        byte access = request.Writable;
        bool writable = access switch
        {
            Msg.DataspaceAttach.ReadWrite or Msg.DataspaceAttach.Backing => true,
            Msg.DataspaceAttach.ReadOnly => false,
            _ => throw new L4RtException(L4Status.ProtocolViolation, $"unknown dataspace access {access}"),
        };
        DataspaceObject dataspace = Expect<DataspaceObject>(cap, writable ? CapRights.Write : CapRights.Read);
        if (access == Msg.DataspaceAttach.Backing && dataspace.Pager is null)
        {
            throw new L4RtException(L4Status.InvalidArgument, "only a paged dataspace has a backing to map");
        }

        int pagerSlot = -1;
        if (dataspace.Pager is { } pager && access != Msg.DataspaceAttach.Backing)
        {
            pagerSlot = PagerCapability(task, dataspace, pager).Slot;
        }
        else if (access == Msg.DataspaceAttach.Backing)
        {
            dataspace.BackingAttaches++;
        }

        if (!dataspace.Attached.TryGetValue(cap, out long token))
        {
            dataspace.Attached[cap] = token = NextId();
        }

        return dataspace.Pager is null
            ? new(dataspace.Size, token, writable ? dataspace.ReadWrite : dataspace.ReadOnly)
            : new(dataspace.Size, token, writable ? dataspace.ReadWrite : dataspace.ReadOnly, pagerSlot, dataspace.PagerId, dataspace.FaultTimeoutMs);
    }

    /// <summary>This task's send-only capability to a paged dataspace's pager, derived from the creator's, made on its first mapping.</summary>
    private static Capability PagerCapability(TaskObject task, DataspaceObject dataspace, Capability pager)
    {
        if (dataspace.PagerCaps.TryGetValue(task, out Capability? given) && given.Object.Caps.Contains(given))
        {
            return given;
        }

        if (pager.Object.Destroyed || !pager.Object.Caps.Contains(pager))
        {
            throw new L4RtException(L4Status.DestinationDeleted, "the dataspace's pager is gone");
        }

        foreach (TaskObject gone in dataspace.PagerCaps.Keys.Where(t => t.Destroyed).ToList())
        {
            dataspace.PagerCaps.Remove(gone); // entries of ended tasks go when the next task maps it
        }

        given = MapInto(pager, CapRights.Send, task);
        dataspace.PagerCaps[task] = given;
        return given;
    }

    /// <summary>Hands one end of a channel to a task: the producer end needs Write, the consumer end Send.</summary>
    private static Msg.ChannelAttach.Reply ChannelAttach(TaskObject task, Msg.ChannelAttach.Request request)
    {
        Capability cap = Lookup(task, request.Channel);
        byte role = request.Role;
        bool producer = role switch
        {
            1 => true,
            0 => false,
            _ => throw new L4RtException(L4Status.ProtocolViolation, $"unknown channel role {role}"),
        };
        ChannelObject channel = Expect<ChannelObject>(cap, producer ? CapRights.Write : CapRights.Send);
        if ((producer ? channel.Producer : channel.Consumer) is { Destroyed: false } holder)
        {
            throw new L4RtException(L4Status.AlreadyExists, $"the channel already has a {(producer ? "producer" : "consumer")} (task {holder.Id})");
        }

        if (producer)
        {
            channel.Producer = task;
        }
        else
        {
            channel.Consumer = task;
        }

        task.ChannelEnds.Add(channel);
        return new(channel.Region.Capacity, channel.Region.Handle);
    }

    private static Msg.IrqAttach.Reply IrqAttach(TaskObject task, Msg.IrqAttach.Request request)
    {
        IrqObject irq = Expect<IrqObject>(Lookup(task, request.Irq), CapRights.Send);
        return new(irq.Region.Handle, irq.Thread.Doorbell.Handle);
    }

    private static Empty IrqTrigger(TaskObject task, Msg.IrqTrigger.Request request)
    {
        IrqObject irq = Expect<IrqObject>(Lookup(task, request.Irq), CapRights.Send);
        Trigger(irq);
        return default;
    }

    private static void Trigger(IrqObject irq)
    {
        irq.Triggers++;
        Interlocked.Increment(ref irq.Region.Layout.State); // pairs with the receiver's Exchange(State, 0)
        irq.Thread.Doorbell.RingWithHint(irq.Index);
    }
}
