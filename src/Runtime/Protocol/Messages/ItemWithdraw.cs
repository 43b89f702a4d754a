using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.ItemWithdraw"/>: the sender of a message with items gave up on it (timeout, abort). Of this and the
/// receiver's <see cref="Opcode.ItemAccept"/>, the one the broker handles first decides whether the message is delivered.
/// </summary>
internal static class ItemWithdraw
{
    /// <summary>The sender's link and the message's seq.</summary>
    internal readonly record struct Request(long LinkId, int Seq) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.ItemWithdraw;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int64(LinkId).Int32(Seq);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt64(), reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>1: withdrawn, never delivered; 0: the receiver accepted the items first (the message is delivered).</summary>
    internal readonly record struct Reply(byte Withdrawn) : IControlMessage<Reply>
    {
        public void Write(Payload payload) => payload.Byte(Withdrawn);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadByte());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
