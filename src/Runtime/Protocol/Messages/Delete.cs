using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.Delete"/>: delete a capability and what was derived from it (with the delete right, the object).</summary>
internal static class Delete
{
    /// <summary>The capability.</summary>
    internal readonly record struct Request(int Capability) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.Delete;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Capability);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
