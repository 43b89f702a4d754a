using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// Typed items in messages: the slow path. The words travel on the link as always; the broker holds the items between
/// the sender's offer and the receiver's accept, and of accept and withdraw the first one decides. Everything a
/// receiver gets goes through <see cref="MapInto"/> (capabilities; the name service too) or <see cref="MapFlexpage"/>.
/// </summary>
internal sealed partial class BrokerKernel
{
    private const ulong ItemReservedBits = 0xFFFF_00E0; // bits 5–7 and 16–31 of an item's first word

    /// <summary>Checks each item against the sender's space and keeps the offer on its link for the receiver.</summary>
    private static Empty ItemOffer(TaskObject task, Msg.ItemOffer.Request request)
    {
        LinkObject link = task.SendLinks.Find(l => l.Id == request.LinkId)
            ?? throw new L4RtException(L4Status.InvalidCapability, $"this task has no link {request.LinkId}");
        if (link.Destroyed || link.Gate.Destroyed)
        {
            throw new L4RtException(L4Status.DestinationDeleted, "the gate is gone");
        }

        OfferedItem[] items = CheckItems(task, request.Items);
        link.Offer = new ItemOfferRecord(request.Seq, items, task); // replaces an offer of a message the sender took back
        return default;
    }

    /// <summary>
    /// Checks each of a message's items (two registers each) against <paramref name="task"/>'s space; a slot granted may not
    /// also be sent by another item of the message.
    /// </summary>
    private static OfferedItem[] CheckItems(TaskObject task, ulong[] registers)
    {
        OfferedItem[] items = new OfferedItem[registers.Length / 2];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = CheckItem(task, i, registers[2 * i], registers[(2 * i) + 1]);
            for (int j = 0; j < i; j++)
            {
                if (items[j].Source == items[i].Source && (items[i].Grant || items[j].Grant))
                {
                    throw new L4RtException(L4Status.InvalidArgument, $"item {i}: slot {items[i].Source.Slot} is granted and also sent by item {j}");
                }
            }
        }

        return items;
    }

    /// <summary>
    /// A server replies with items: they are checked against its space now and kept on the link for the caller, which
    /// accepts them when it sees the reply (<see cref="ReplyItemAccept"/>).
    /// </summary>
    private static Empty ReplyItemOffer(TaskObject task, Msg.ReplyItemOffer.Request request)
    {
        LinkObject link = ReceivingLink(task, request.ThreadId, request.Index);
        if (link.Sender.Destroyed)
        {
            throw new L4RtException(L4Status.DestinationDeleted, "the caller is gone");
        }

        link.ReplyOffer = new ItemOfferRecord(request.Seq, CheckItems(task, request.Items), task); // replaces a reply nobody accepted
        return default;
    }

    /// <summary>The caller accepts the items of the reply it saw: as <see cref="ItemAccept"/>, one attempt per reply.</summary>
    private Msg.ItemAccept.Reply ReplyItemAccept(TaskObject task, Msg.ReplyItemAccept.Request request)
    {
        LinkObject link = task.SendLinks.Find(l => l.Id == request.LinkId)
            ?? throw new L4RtException(L4Status.InvalidCapability, $"this task has no link {request.LinkId}");
        ItemOfferRecord offer = link.ReplyOffer is { State: OfferState.Offered } o && o.Seq == request.Seq
            ? o
            : throw new L4RtException(L4Status.ProtocolViolation, $"no items were offered with the reply to call {request.Seq} of that link");
        link.ReplyOffer = null; // accepted or refused, this reply's items are settled
        return Deliver(task, offer, request.Slots, request.WindowBytes);
    }

    /// <summary>The link a thread of <paramref name="task"/> receives on at endpoint <paramref name="index"/>.</summary>
    private static LinkObject ReceivingLink(TaskObject task, int threadId, int index)
    {
        ThreadObject thread = task.Created.OfType<ThreadObject>().FirstOrDefault(t => t.Id == threadId && !t.Destroyed)
            ?? throw new L4RtException(L4Status.InvalidCapability, $"this task has no thread {threadId}");
        return thread.Gates.SelectMany(g => g.Links).FirstOrDefault(l => l.Index == index && l.Installed && !l.Destroyed)
            ?? throw new L4RtException(L4Status.InvalidCapability, $"thread {threadId} has no link at endpoint {index}");
    }

    private static OfferedItem CheckItem(TaskObject task, int index, ulong first, ulong second)
    {
        if ((first & ItemReservedBits) != 0)
        {
            throw new L4RtException(L4Status.InvalidArgument, $"item {index}: reserved bits set (0x{first:x16})");
        }

        int kind = (int)(first & 0xF);
        bool grant = (first & 0x10) != 0;
        CapRights rights = (CapRights)((first >> 8) & 0xFF);
        int slot = (int)(uint)(first >> 32);
        if ((rights & ~CapRights.All) != 0)
        {
            throw new L4RtException(L4Status.InvalidArgument, $"item {index}: unknown rights 0x{(uint)rights:x}");
        }

        Capability cap = task.Space.Get(slot) ?? throw new L4RtException(L4Status.InvalidCapability, $"item {index}: slot {slot} holds no capability");
        switch (kind)
        {
            case 1:
                if (second != 0)
                {
                    throw new L4RtException(L4Status.InvalidArgument, $"item {index}: an object item's second word must be 0");
                }

                CapRights needed = grant ? CapRights.Grant : CapRights.Map;
                if (!cap.Has(needed))
                {
                    throw new L4RtException(L4Status.NoRights, $"item {index}: slot {slot} lacks the {(grant ? "grant" : "map")} right");
                }

                return new(IsMemory: false, Grant: grant, cap.Rights & rights, cap, 0, 0);
            case 2:
                if (grant)
                {
                    throw new L4RtException(L4Status.InvalidArgument, $"item {index}: a flexpage is mapped, never granted");
                }

                DataspaceObject dataspace = Expect<DataspaceObject>(cap, CapRights.Map);
                CapRights access = rights & (CapRights.Read | CapRights.Write);
                if (access == 0 || access != rights)
                {
                    throw new L4RtException(L4Status.InvalidArgument, $"item {index}: a flexpage is mapped with the read or the write right, not {rights}");
                }

                if ((access & ~cap.Rights) != 0)
                {
                    throw new L4RtException(L4Status.NoRights, $"item {index}: slot {slot} lacks the right {access & ~cap.Rights}");
                }

                long offset = (long)(second & 0xFFFF_FFFF) * ProtocolLimits.PageSize;
                long size = (long)(second >> 32) * ProtocolLimits.PageSize;
                if (size == 0 || offset > dataspace.Size || size > dataspace.Size - offset)
                {
                    throw new L4RtException(L4Status.InvalidArgument, $"item {index}: a flexpage of {size} bytes at {offset} does not fit the dataspace of {dataspace.Size} bytes");
                }

                return new(IsMemory: true, Grant: false, access, cap, offset, size);
            default:
                throw new L4RtException(L4Status.InvalidArgument, $"item {index}: unknown kind {kind}");
        }
    }

    /// <summary>
    /// The receiver accepts the items of the message it saw: every item is checked again (the sender may have lost a
    /// capability since it offered), room is checked, and only then does anything move — all items, or none.
    /// </summary>
    private Msg.ItemAccept.Reply ItemAccept(TaskObject task, Msg.ItemAccept.Request request)
    {
        LinkObject link = ReceivingLink(task, request.ThreadId, request.Index);
        ItemOfferRecord offer = link.Offer is { } o && o.Seq == request.Seq
            ? o
            : throw new L4RtException(L4Status.ProtocolViolation, $"no items were offered for message {request.Seq} of that link");
        switch (offer.State)
        {
            case OfferState.Withdrawn:
                throw new L4RtException(L4Status.Aborted, "the sender withdrew the message");
            case OfferState.Refused:
                throw new L4RtException(offer.RefusedWith, "the items were refused already");
            case OfferState.Applied:
                throw new L4RtException(L4Status.ProtocolViolation, "the items were accepted already");
        }

        return Deliver(task, offer, request.Slots, request.WindowBytes);
    }

    /// <summary>
    /// Delivers an offer's items into <paramref name="receiver"/>: each checked again against the space of the task that
    /// offered them, room checked, and only then does anything move — all items, or none.
    /// </summary>
    private Msg.ItemAccept.Reply Deliver(TaskObject receiver, ItemOfferRecord offer, int[] slots, long windowBytes)
    {
        string? refusal = Refusal(offer.From, receiver, offer, slots, windowBytes, out L4Status status);
        if (refusal is not null)
        {
            offer.State = OfferState.Refused;
            offer.RefusedWith = status;
            throw new L4RtException(status, refusal);
        }

        Msg.ItemAccept.Received[] received = new Msg.ItemAccept.Received[offer.Items.Length];
        List<Microsoft.Win32.SafeHandles.SafeFileHandle> memory = [];
        int nextSlot = 0;
        for (int i = 0; i < offer.Items.Length; i++)
        {
            OfferedItem item = offer.Items[i];
            if (item.IsMemory)
            {
                (long token, DataspaceObject dataspace) = MapFlexpage(item, receiver);
                memory.Add((item.Rights & CapRights.Write) != 0 ? dataspace.ReadWrite : dataspace.ReadOnly);
                received[i] = new(2, 0, item.Rights, CapKind.Dataspace, -1, item.Offset, item.Size, token);
                continue;
            }

            int slot = slots[nextSlot++];
            Capability landed = item.Grant ? GrantInto(item.Source, item.Rights, receiver, slot) : MapInto(item.Source, item.Rights, receiver, slot);
            received[i] = new(1, item.Grant ? (byte)1 : (byte)0, landed.Rights, landed.Object.Kind, landed.Slot, 0, 0, 0);
        }

        offer.State = OfferState.Applied;
        return new(received, [.. memory]);
    }

    /// <summary>Why the items cannot be delivered now (null: they can), with the status the sender will get.</summary>
    private static string? Refusal(TaskObject sender, TaskObject receiver, ItemOfferRecord offer, int[] slots, long windowBytes, out L4Status status)
    {
        status = L4Status.InvalidCapability;
        int objects = 0;
        long bytes = 0;
        foreach (OfferedItem item in offer.Items)
        {
            if (sender.Destroyed || sender.Space.Get(item.Source.Slot) != item.Source || item.Source.Object.Destroyed)
            {
                return $"the sender no longer holds the capability in slot {item.Source.Slot}";
            }

            objects += item.IsMemory ? 0 : 1;
            bytes += item.IsMemory ? item.Size : 0;
        }

        status = L4Status.NoReceiveBuffer;
        if (objects > slots.Length)
        {
            return $"{objects} capabilities, {slots.Length} receive slots";
        }

        if (bytes > windowBytes)
        {
            return $"{bytes} bytes of flexpages, {windowBytes} bytes left in the receive window";
        }

        for (int i = 0; i < objects; i++)
        {
            int slot = slots[i];
            if (slot != Msg.ItemAccept.AnySlot && (!receiver.Space.IsFree(slot) || Array.IndexOf(slots, slot) != i))
            {
                return $"receive slot {slot} is taken";
            }
        }

        status = L4Status.QuotaExceeded;
        return receiver.Space.Count + objects > CapSpace.MaxSlots ? $"a task holds at most {CapSpace.MaxSlots} capabilities" : null;
    }

    /// <summary>Map: a copy of <paramref name="source"/> with <paramref name="rights"/> (at most its own) in <paramref name="target"/>, derived from it.</summary>
    private static Capability MapInto(Capability source, CapRights rights, TaskObject target, int slot = Msg.ItemAccept.AnySlot)
    {
        Capability mapped = new(source.Object, source.Rights & rights & CapRights.All, target, source);
        InstallAt(target, mapped, slot);
        return mapped;
    }

    /// <summary>
    /// Grant: <paramref name="source"/> moves to <paramref name="target"/> (what was derived from it stays derived, now
    /// from the moved capability, unless it holds a right the moved one lacks); the sender keeps nothing, and its
    /// mappings made through it are revoked.
    /// </summary>
    private Capability GrantInto(Capability source, CapRights rights, TaskObject target, int slot)
    {
        Capability moved = new(source.Object, source.Rights & rights & CapRights.All, target, source.Parent);
        foreach (Capability child in source.Children.ToList())
        {
            // A grant with fewer rights must not leave a child with more rights than its new parent: rights would grow
            // along the path (a task mapped All from it, the receiver of a Send-only grant, could map All on). What was
            // derived with a right the moved capability drops is revoked, with its own descendants — found by the
            // property tests (Properties/KernelRegressionTests).
            if ((child.Rights & ~moved.Rights) != 0)
            {
                RemoveCapability(child);
                continue;
            }

            child.Parent = moved;
            moved.Children.Add(child);
        }

        source.Children.Clear();
        if (source.Object is DataspaceObject dataspace && dataspace.Attached.Remove(source, out long token) && source.Owner is { Destroyed: false } holder)
        {
            holder.Port.Notify(Opcode.DataspaceRevoked, 0, new Msg.DataspaceRevoked.Notification(token));
        }

        EndLinksThrough(source); // the sender holds it no longer
        source.Owner?.Space.Remove(source);
        source.Object.Caps.Remove(source);
        source.Parent?.Children.Remove(source);
        InstallAt(target, moved, slot);
        return moved;
    }

    private static void InstallAt(TaskObject target, Capability cap, int slot)
    {
        if (slot == Msg.ItemAccept.AnySlot)
        {
            Install(target, cap);
            return;
        }

        target.Space.InsertAt(slot, cap);
        cap.Object.Caps.Add(cap);
        cap.Parent?.Children.Add(cap);
    }

    /// <summary>A flexpage mapping in <paramref name="target"/>: a node derived from the sender's capability, in no slot, known by its token.</summary>
    private (long Token, DataspaceObject Dataspace) MapFlexpage(OfferedItem item, TaskObject target)
    {
        DataspaceObject dataspace = (DataspaceObject)item.Source.Object;
        Capability mapping = new(dataspace, item.Rights, target, item.Source) { MappedOffset = item.Offset, MappedSize = item.Size };
        dataspace.Caps.Add(mapping);
        item.Source.Children.Add(mapping);
        long token = NextId();
        dataspace.Attached[mapping] = token;
        target.Mappings[token] = mapping;
        return (token, dataspace);
    }

    /// <summary>The sender gave up: withdrawn unless the receiver accepted first.</summary>
    private static Msg.ItemWithdraw.Reply ItemWithdraw(TaskObject task, Msg.ItemWithdraw.Request request)
    {
        LinkObject link = task.SendLinks.Find(l => l.Id == request.LinkId)
            ?? throw new L4RtException(L4Status.InvalidCapability, $"this task has no link {request.LinkId}");
        if (link.Offer is { } offer && offer.Seq == request.Seq)
        {
            if (offer.State == OfferState.Applied)
            {
                return new(0);
            }

            offer.State = offer.State == OfferState.Offered ? OfferState.Withdrawn : offer.State;
        }

        return new(1);
    }

    /// <summary>The holder unmapped a flexpage it received: the mapping leaves the derivation tree (an unknown token is no error: it may have been revoked meanwhile).</summary>
    private Empty MappingRelease(TaskObject task, Msg.MappingRelease.Request request)
    {
        if (task.Mappings.TryGetValue(request.Token, out Capability? mapping) && mapping.Object is DataspaceObject dataspace)
        {
            dataspace.Attached.Remove(mapping); // it is unmapped already: no revocation to tell
            RemoveCapability(mapping);
        }

        return default;
    }
}
