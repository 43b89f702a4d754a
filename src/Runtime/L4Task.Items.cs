using System.Collections.Concurrent;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Microsoft.Win32.SafeHandles;

namespace L4Rt;

/// <summary>Typed items in messages: this task is the broker's side of the slow path for its links and threads.</summary>
public sealed partial class L4Task : IItemTransfer
{
    private readonly ConcurrentDictionary<int, ReceiveWindow> _windows = new();
    private int _nextWindow;

    /// <summary>
    /// Reserves a receive window of <paramref name="size"/> bytes (whole pages) for flexpages sent to this task; name it
    /// in a thread's buffer registers (<see cref="ReceiveBuffers"/>).
    /// </summary>
    public ReceiveWindow CreateReceiveWindow(long size)
    {
        ReceiveWindow window = new(this, Interlocked.Increment(ref _nextWindow), size);
        _windows[window.Id] = window;
        return window;
    }

    internal void ForgetWindow(ReceiveWindow window) => _windows.TryRemove(window.Id, out _);

    /// <summary>A received flexpage was unmapped: tell the broker (fire and forget: nothing waits for it).</summary>
    internal void ReleaseMapping(long token)
    {
        if (token != 0 && !IsBrokerLost)
        {
            _ = RequestAsync(new MappingRelease.Request(token), "release a received flexpage")
                .ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        }
    }

    L4Status IItemTransfer.Offer(SendLink link, int seq, ReadOnlySpan<ulong> items)
    {
        try
        {
            Request(new ItemOffer.Request(link.BrokerId, seq, items.ToArray()), "offer a message's items");
            return L4Status.Ok;
        }
        catch (L4RtException e)
        {
            return e.Status;
        }
    }

    bool IItemTransfer.Withdraw(SendLink link, int seq)
    {
        try
        {
            return Request(new ItemWithdraw.Request(link.BrokerId, seq), "withdraw a message's items").Withdrawn != 0;
        }
        catch (L4RtException)
        {
            return true; // no broker to accept them either
        }
    }

    L4Status IItemTransfer.Accept(L4Thread receiver, ReceiveLink link, int seq, MsgTag tag) =>
        Receive(receiver, tag, (slots, windowBytes) => new ItemAccept.Request(receiver.BrokerId, link.Index, seq, slots, windowBytes), "accept a message's items") switch
        {
            L4Status.Aborted => L4Status.SendTimeout, // the sender withdrew it first
            L4Status status => status,
        };

    L4Status IItemTransfer.OfferReply(L4Thread replier, ReceiveLink link, int seq, ReadOnlySpan<ulong> items)
    {
        try
        {
            Request(new ReplyItemOffer.Request(replier.BrokerId, link.Index, seq, items.ToArray()), "offer a reply's items");
            return L4Status.Ok;
        }
        catch (L4RtException e)
        {
            return e.Status;
        }
    }

    L4Status IItemTransfer.AcceptReply(L4Thread caller, SendLink link, int seq, MsgTag tag) =>
        Receive(caller, tag, (slots, windowBytes) => new ReplyItemAccept.Request(link.BrokerId, seq, slots, windowBytes), "accept a reply's items");

    /// <summary>
    /// Receives the items of a message (a request or a reply) into <paramref name="receiver"/>'s buffer registers: asks the
    /// broker with the request <paramref name="accept"/> makes of the receive slots and the window's free bytes, maps what
    /// arrives, and writes the received items into the message registers after the words.
    /// </summary>
    private L4Status Receive(L4Thread receiver, MsgTag tag, Func<int[], long, IControlRequest<ItemAccept.Reply>> accept, string what)
    {
        if (!TryReadBuffers(receiver.Utcb, out int[] slots, out ReceiveWindow? window))
        {
            return L4Status.NoReceiveBuffer; // malformed buffer registers: this thread made no (usable) room
        }

        ItemAccept.Reply reply;
        try
        {
            long room = window is null || (window.RequiresCopyOptIn && (tag.Flags & MsgTagFlags.CopyMemory) == 0) ? 0 : window.Available;
            reply = Request(accept(slots, room), what, undo: late => Discard(late)); // came after we gave up: nothing of it may stay
        }
        catch (L4RtException e)
        {
            return e.Status;
        }

        if (reply.Items.Length != tag.Items)
        {
            Discard(reply);
            return L4Status.ProtocolViolation; // the tag counts other items than the sender offered
        }

        object[] received = new object[reply.Items.Length];
        Span<ulong> mr = receiver.Utcb.Mr[tag.Words..];
        int memory = 0;
        try
        {
            for (int i = 0; i < reply.Items.Length; i++)
            {
                ItemAccept.Received item = reply.Items[i];
                if (item.Kind == 2)
                {
                    received[i] = window is null ? throw new L4RtException(L4Status.ProtocolViolation, "a flexpage arrived without a window")
                        : Place(window, item, reply.Memory[memory++]);
                    MsgItem.ReceivedMemory(i, item.Rights, item.Offset, item.Size).WriteTo(mr[(2 * i)..]);
                }
                else
                {
                    received[i] = Capability.Create(this, item.Slot, item.ObjectKind, item.Rights);
                    MsgItem.ReceivedObject(item.Slot, item.Rights, item.ObjectKind, item.Grant != 0).WriteTo(mr[(2 * i)..]);
                }
            }
        }
        catch (Exception e) when (e is L4RtException or IOException)
        {
            foreach (DataspaceMapping placed in received.OfType<DataspaceMapping>())
            {
                placed.Dispose();
            }

            Discard(reply); // the broker's reply made no sense here (or mmap failed): nothing of it stays
            return L4Status.ProtocolViolation;
        }

        L4ThreadExtensions.SetReceived(receiver, received);
        return L4Status.Ok;
    }

    /// <summary>Maps one received flexpage into the window (the broker checked it fits what was left).</summary>
    private unsafe DataspaceMapping Place(ReceiveWindow window, ItemAccept.Received item, SafeFileHandle memory)
    {
        DataspaceMapping mapping = TrackMapping(new DataspaceMapping(this, window, (item.Rights & CapRights.Write) != 0, item.Offset));
        if (item.Size <= 0 || item.Size % ProtocolLimits.PageSize != 0 || !window.TryPlace(item.Size, out byte* address))
        {
            memory.Dispose();
            UntrackMapping(mapping);
            ReleaseMapping(item.Token);
            throw new L4RtException(L4Status.ProtocolViolation, $"a received flexpage of {item.Size} bytes does not fit the window");
        }

        mapping.MapAt(address, memory, item.Size, item.Token);
        if (WasRevoked(item.Token))
        {
            mapping.Revoke(); // revoked while the accept reply was on its way here
        }

        return mapping;
    }

    /// <summary>An accept reply we cannot use: give back what it delivered.</summary>
    private void Discard(ItemAccept.Reply reply)
    {
        foreach (SafeFileHandle memory in reply.Memory)
        {
            memory.Dispose();
        }

        foreach (ItemAccept.Received item in reply.Items)
        {
            if (item.Kind == 2)
            {
                ReleaseMapping(item.Token);
            }
            else if (!IsBrokerLost)
            {
                _ = RequestAsync(new Delete.Request(item.Slot), "drop a capability that arrived too late")
                    .ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
            }
        }
    }

    /// <summary>Reads a thread's buffer registers: its receive slots (−1: any) and its window; false when they are malformed.</summary>
    private bool TryReadBuffers(Utcb utcb, out int[] slots, out ReceiveWindow? window)
    {
        window = null;
        ulong count = utcb.Bdr;
        if (count > Utcb.BufferRegisters)
        {
            slots = [];
            return false;
        }

        List<int> list = [];
        foreach (ulong br in utcb.Br[..(int)count])
        {
            switch (br & 0xF)
            {
                case ReceiveBuffers.CapabilitySlotKind:
                    list.Add((int)(uint)(br >> 32));
                    break;
                case ReceiveBuffers.WindowKind when window is null && _windows.TryGetValue((int)(uint)(br >> 32), out ReceiveWindow? found):
                    window = found;
                    break;
                default:
                    slots = [];
                    return false;
            }
        }

        slots = [.. list];
        return true;
    }
}
