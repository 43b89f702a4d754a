using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.Map"/>: copy a capability into another task with equal or fewer rights.</summary>
internal static class Map
{
    /// <summary>The capability, the target task's capability, and the rights to keep.</summary>
    internal readonly record struct Request(int Source, int Target, CapRights Rights) : IControlMessage<Request>, IControlRequest<SlotReply>
    {
        public Opcode Opcode => Opcode.Map;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Source).Int32(Target).UInt32((uint)Rights);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadInt32(), (CapRights)reader.ReadUInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
