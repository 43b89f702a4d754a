using System.Runtime.InteropServices;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.ItemAccept"/>: the receiver saw a message with items on one of its links and accepts them into its
/// buffer registers: capabilities land in the receive slots it names, flexpages need room in its receive window. All
/// items arrive, or none does (the broker refuses with a status the receiver passes back to the sender).
/// </summary>
internal static class ItemAccept
{
    /// <summary>A receive slot of "any free slot".</summary>
    internal const int AnySlot = -1;

    /// <summary>The most receive slots one accept names.</summary>
    internal const int MaxSlots = 58;

    /// <summary>The receiving thread (the broker's id), the link's index there, the message's seq, the receive slots and the window's free bytes.</summary>
    internal readonly record struct Request(int ThreadId, int Index, int Seq, int[] Slots, long WindowBytes) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.ItemAccept;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => WriteRoom(payload.Int32(ThreadId).Int32(Index).Int32(Seq), Slots, WindowBytes);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            int thread = reader.ReadInt32();
            int index = reader.ReadInt32();
            int seq = reader.ReadInt32();
            (int[] slots, long window) = ReadRoom(ref reader);
            reader.End();
            Descriptors.Expect(fds, 0);
            return new(thread, index, seq, slots, window);
        }
    }

    /// <summary>The room a receiver offers: its window's free bytes, then its receive slots (shared with <see cref="ReplyItemAccept"/>).</summary>
    internal static void WriteRoom(Payload payload, int[] slots, long windowBytes)
    {
        payload.Int64(windowBytes).Int32(slots.Length);
        foreach (int slot in slots)
        {
            payload.Int32(slot);
        }
    }

    /// <summary>Reads what <see cref="WriteRoom"/> wrote: at most <see cref="MaxSlots"/> slots and a window of no negative size.</summary>
    internal static (int[] Slots, long WindowBytes) ReadRoom(ref FrameReader reader)
    {
        long window = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (count is < 0 or > MaxSlots || window < 0)
        {
            throw new L4RtException(L4Status.InvalidArgument, $"{count} receive slots and a window of {window} bytes");
        }

        int[] slots = new int[count];
        for (int i = 0; i < count; i++)
        {
            slots[i] = reader.ReadInt32();
        }

        return (slots, window);
    }

    /// <summary>
    /// One item as it arrived: an object item's slot, kind and rights; a memory item's offset and size in the dataspace,
    /// its rights and the token a revocation names it by (its descriptor is in the reply's descriptors, in item order).
    /// </summary>
    internal readonly record struct Received(byte Kind, byte Grant, CapRights Rights, CapKind ObjectKind, int Slot, long Offset, long Size, long Token);

    /// <summary>The items, in message order, and one descriptor per memory item.</summary>
    internal readonly record struct Reply(Received[] Items, SafeFileHandle[] Memory) : IControlMessage<Reply>
    {
        public SafeHandle[] Fds => Memory;

        public void Write(Payload payload)
        {
            payload.Int32(Items.Length);
            foreach (Received item in Items)
            {
                payload.Byte(item.Kind).Byte(item.Grant).UInt32((uint)item.Rights).Int32((int)item.ObjectKind).Int32(item.Slot)
                    .Int64(item.Offset).Int64(item.Size).Int64(item.Token);
            }
        }

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            int count = reader.ReadInt32();
            if (count is <= 0 or > ItemOffer.MaxItems)
            {
                throw new L4RtException(L4Status.ProtocolViolation, $"the broker accepted {count} items");
            }

            Received[] items = new Received[count];
            int memory = 0;
            for (int i = 0; i < count; i++)
            {
                items[i] = new(reader.ReadByte(), reader.ReadByte(), (CapRights)reader.ReadUInt32(), (CapKind)reader.ReadInt32(), reader.ReadInt32(),
                    reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
                memory += items[i].Kind == 2 ? 1 : 0;
            }

            reader.End();
            return new(items, Descriptors.TakeAll(fds, memory));
        }
    }
}
