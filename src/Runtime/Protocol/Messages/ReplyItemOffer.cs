using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.ReplyItemOffer"/>: a server about to reply with typed items hands them to the broker first, naming
/// the call by its receiving thread, the link's endpoint index and the call's seq. The broker checks every capability and
/// its rights now (a refusal comes back here, the reply is not posted) and keeps the offer for the caller, which accepts
/// it with <see cref="Opcode.ReplyItemAccept"/> once it sees the reply. A reply is never withdrawn: one the caller no
/// longer waits for leaves an offer nobody accepts, replaced by the link's next one or dropped with the link.
/// </summary>
internal static class ReplyItemOffer
{
    /// <summary>The replying thread (the broker's id), the link's index there, the call's seq, and each item's two registers.</summary>
    internal readonly record struct Request(int ThreadId, int Index, int Seq, ulong[] Items) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.ReplyItemOffer;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => ItemOffer.WriteItems(payload.Int32(ThreadId).Int32(Index).Int32(Seq), Items);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            int thread = reader.ReadInt32();
            int index = reader.ReadInt32();
            int seq = reader.ReadInt32();
            ulong[] items = ItemOffer.ReadItems(ref reader);
            reader.End();
            Descriptors.Expect(fds, 0);
            return new(thread, index, seq, items);
        }
    }
}
