using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.NameRegister"/>: register a capability under a name (charged one object).</summary>
internal static class NameRegister
{
    /// <summary>The namespace, the capability to register (it needs the map right), the rights queriers get, and the name.</summary>
    internal readonly record struct Request(int Namespace, int Capability, CapRights Rights, string Name) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.NameRegister;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Namespace).Int32(Capability).UInt32((uint)Rights).String(Name);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadInt32(), (CapRights)reader.ReadUInt32(), reader.ReadString(ProtocolLimits.MaxNameLength, "a name"));
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
