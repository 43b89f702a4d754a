using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.CreateFactory"/>: a factory carves a child factory with a sub-quota.</summary>
internal static class CreateFactory
{
    /// <summary>The parent factory and the child's byte and object quota.</summary>
    internal readonly record struct Request(int Factory, long Bytes, int Objects) : IControlMessage<Request>, IControlRequest<SlotReply>
    {
        public Opcode Opcode => Opcode.CreateFactory;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Factory).Int64(Bytes).Int32(Objects);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
