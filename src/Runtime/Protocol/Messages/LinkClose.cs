using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.LinkClose"/>: a sender closes a link it opened (its thread is gone).</summary>
internal static class LinkClose
{
    /// <summary>The link's id from its <see cref="GateLink.Reply"/>.</summary>
    internal readonly record struct Request(long LinkId) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.LinkClose;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int64(LinkId);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt64());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
