using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.ItemOffer"/>: the sender of a message with typed items hands them to the broker before it posts the
/// message on its link. The broker checks every capability and its rights now and keeps the offer for the receiver.
/// </summary>
internal static class ItemOffer
{
    /// <summary>The most items one message carries (two registers each, after at least no words).</summary>
    internal const int MaxItems = 31;

    /// <summary>The sender's link, the message's seq, and each item's two registers.</summary>
    internal readonly record struct Request(long LinkId, int Seq, ulong[] Items) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.ItemOffer;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => WriteItems(payload.Int64(LinkId).Int32(Seq), Items);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            long link = reader.ReadInt64();
            int seq = reader.ReadInt32();
            ulong[] items = ReadItems(ref reader);
            reader.End();
            Descriptors.Expect(fds, 0);
            return new(link, seq, items);
        }
    }

    /// <summary>The item count, then each item's two registers (shared with <see cref="ReplyItemOffer"/>).</summary>
    internal static void WriteItems(Payload payload, ulong[] items)
    {
        payload.Int32(items.Length / 2);
        foreach (ulong word in items)
        {
            payload.UInt64(word);
        }
    }

    /// <summary>Reads what <see cref="WriteItems"/> wrote: 1 to <see cref="MaxItems"/> items.</summary>
    internal static ulong[] ReadItems(ref FrameReader reader)
    {
        int count = reader.ReadInt32();
        if (count is <= 0 or > MaxItems)
        {
            throw new L4RtException(L4Status.InvalidArgument, $"a message carries 1 to {MaxItems} items, not {count}");
        }

        ulong[] items = new ulong[count * 2];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = reader.ReadUInt64();
        }

        return items;
    }
}
