using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.Cancel"/>: the caller stopped waiting for a deferred request (a name query); the broker drops it.</summary>
internal static class Cancel
{
    /// <summary>The id of the request to drop (one of this task's; unknown or answered ids are ignored).</summary>
    internal readonly record struct Request(uint RequestId) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.Cancel;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.UInt32(RequestId);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadUInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
