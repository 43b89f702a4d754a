using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.ReplyItemAccept"/>: a caller saw a reply with typed items on its link and accepts them into its
/// buffer registers, as a receiver accepts a request's (<see cref="ItemAccept"/>: the same checks, all items or none, the
/// same reply). One attempt per reply: accepted or refused, the offer is gone after it.
/// </summary>
internal static class ReplyItemAccept
{
    /// <summary>The caller's link, the call's seq, the receive slots and the window's free bytes.</summary>
    internal readonly record struct Request(long LinkId, int Seq, int[] Slots, long WindowBytes) : IControlMessage<Request>, IControlRequest<ItemAccept.Reply>
    {
        public Opcode Opcode => Opcode.ReplyItemAccept;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => ItemAccept.WriteRoom(payload.Int64(LinkId).Int32(Seq), Slots, WindowBytes);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            long link = reader.ReadInt64();
            int seq = reader.ReadInt32();
            (int[] slots, long window) = ItemAccept.ReadRoom(ref reader);
            reader.End();
            Descriptors.Expect(fds, 0);
            return new(link, seq, slots, window);
        }
    }
}
