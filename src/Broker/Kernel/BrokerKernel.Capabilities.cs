using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Broker.Kernel;

internal sealed partial class BrokerKernel
{
    /// <summary>Map: copy a capability into another task with equal or fewer rights, recorded as derived from the source.</summary>
    private static SlotReply Map(TaskObject task, Msg.Map.Request request)
    {
        Capability source = Lookup(task, request.Source);
        Capability targetCap = Lookup(task, request.Target);
        if (!source.Has(CapRights.Map))
        {
            throw new L4RtException(L4Status.NoRights, $"slot {source.Slot} lacks the map right");
        }

        TaskObject target = Expect<TaskObject>(targetCap, CapRights.None);
        if (target.Destroyed)
        {
            throw new L4RtException(L4Status.DestinationDeleted, "the target task is gone");
        }

        return new(MapInto(source, request.Rights, target).Slot);
    }

    /// <summary>
    /// Delete: the creator's original capability (delete right, not derived) destroys the object everywhere;
    /// any other capability is removed with everything mapped from it.
    /// </summary>
    private Empty Delete(TaskObject task, Msg.Delete.Request request)
    {
        Capability cap = Lookup(task, request.Capability);
        if (cap.Has(CapRights.Delete) && cap.Parent is null && cap.Object is not TaskObject and not NamespaceObject)
        {
            Destroy(cap.Object);
        }
        else
        {
            RemoveCapability(cap);
        }

        return default;
    }

    private static Msg.CapInfo.Reply CapInfo(TaskObject task, Msg.CapInfo.Request request)
    {
        Capability cap = Lookup(task, request.Capability);
        return new(cap.Object.Kind, cap.Rights);
    }

    /// <summary>Removes a capability and, first, everything derived from it (revocation).</summary>
    private void RemoveCapability(Capability cap)
    {
        foreach (Capability child in cap.Children.ToList())
        {
            RemoveCapability(child);
        }

        EndLinksThrough(cap);

        if (cap.Object is DataspaceObject dataspace && dataspace.Attached.Remove(cap, out long token))
        {
            cap.Owner?.Mappings.Remove(token);
            if (cap.Owner is { Destroyed: false } holder)
            {
                // Its runtime takes the pages out of the mappings made through this capability (no ack: nothing to wait for).
                holder.Port.Notify(Opcode.DataspaceRevoked, 0, new Msg.DataspaceRevoked.Notification(token));
            }
        }

        cap.Owner?.Space.Remove(cap);
        cap.Object.Caps.Remove(cap);
        cap.Parent?.Children.Remove(cap);
        if (cap.Entry is { } entry && _namespace.Entries.TryGetValue(entry.Name, out NameEntry? current) && current == entry)
        {
            _namespace.Entries.Remove(entry.Name);
            entry.ChargedTo.Refund(0, 1);
        }
    }

    /// <summary>A revoked gate capability takes the links opened through it along: a sender blocked on one returns <c>DestinationDeleted</c>, a new link is refused.</summary>
    private void EndLinksThrough(Capability cap)
    {
        if (cap.Object is GateObject gate)
        {
            foreach (LinkObject link in gate.Links.Where(l => l.OpenedThrough == cap).ToList())
            {
                DestroyLink(link, notifyReceiver: true);
            }
        }
    }

    /// <summary>Destroys an object: its capabilities everywhere, what depends on it, then refunds its factory.</summary>
    private void Destroy(KernelObject obj)
    {
        if (obj.Destroyed)
        {
            return;
        }

        obj.Destroyed = true;
        foreach (Capability cap in obj.Caps.ToList())
        {
            RemoveCapability(cap);
        }

        switch (obj)
        {
            case ThreadObject thread:
                foreach (GateObject gate in thread.Gates.ToList())
                {
                    Destroy(gate);
                }

                foreach (IrqObject irq in thread.Irqs.ToList())
                {
                    Destroy(irq);
                }

                thread.Doorbell.MarkReceiverDead();
                thread.Doorbell.Dispose();
                break;
            case GateObject gate:
                foreach (LinkObject link in gate.Links.ToList())
                {
                    DestroyLink(link, notifyReceiver: true);
                }

                gate.Thread.Gates.Remove(gate);
                break;
            case IrqObject irq:
                irq.Region.MarkDead(senderSide: false);
                NotifyEndpointClosed(irq.Thread, irq.Index);
                irq.Thread.FreeIndex(irq.Index);
                irq.Thread.Irqs.Remove(irq);
                irq.Region.Dispose();
                break;
            case ChannelObject channel:
                channel.Region.MarkDead(producer: true); // both ends learn: DestinationDeleted after draining
                channel.Region.MarkDead(producer: false);
                channel.Producer?.ChannelEnds.Remove(channel);
                channel.Consumer?.ChannelEnds.Remove(channel);
                channel.Region.Dispose();
                break;
            case DataspaceObject dataspace:
                dataspace.ReadWrite.Dispose(); // the pages live on while mapped: a holder's runtime takes them out on revocation
                dataspace.ReadOnly.Dispose();
                break;
            case FactoryObject factory:
                foreach (KernelObject child in factory.Objects.ToList())
                {
                    Destroy(child);
                }

                break;
        }

        if (obj.Factory is { } owner)
        {
            owner.Refund(obj.ChargedBytes, obj.ChargedObjects);
            RefundFds(owner.Root, obj.ChargedFds);
            owner.Objects.Remove(obj);
        }

        obj.Creator?.Created.Remove(obj);
        BrokerLog.ObjectDestroyed(_log, obj.Kind.ToString(), obj.Id);
    }

    /// <summary>
    /// Ends a link: both sides are marked dead (a blocked sender or a receiver in closed wait learns at once),
    /// the receiver is told to drop the endpoint, the index and the bytes are returned.
    /// </summary>
    private void DestroyLink(LinkObject link, bool notifyReceiver)
    {
        if (link.Destroyed)
        {
            return;
        }

        link.Destroyed = true;
        link.Region.MarkDead(senderSide: true);
        link.Region.MarkDead(senderSide: false);
        ThreadObject thread = link.Gate.Thread;
        if (!thread.Destroyed)
        {
            thread.Doorbell.Ring();
            if (notifyReceiver && link.Installed)
            {
                NotifyEndpointClosed(thread, link.Index);
            }

            thread.FreeIndex(link.Index);
        }

        if (link.ChargedTo is { } charged)
        {
            charged.Refund(Memory.LinkLayout.RegionSize, 0);
            RefundFds(charged, 1);
        }

        link.Gate.Links.Remove(link);
        link.Sender.SendLinks.Remove(link);
        link.Region.Dispose();
    }

    private static void NotifyEndpointClosed(ThreadObject thread, int index)
    {
        if (thread.Creator is { Destroyed: false } receiver && !thread.Destroyed)
        {
            receiver.Port.Notify(Opcode.EndpointClosed, 0, new Msg.EndpointClosed.Notification((int)thread.Id, index));
        }
    }
}
