using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.CapInfo"/>: describe a capability.</summary>
internal static class CapInfo
{
    /// <summary>The capability.</summary>
    internal readonly record struct Request(int Capability) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.CapInfo;

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

    /// <summary>The kind of object it names and the rights it carries.</summary>
    internal readonly record struct Reply(CapKind Kind, CapRights Rights) : IControlMessage<Reply>
    {
        public void Write(Payload payload) => payload.Byte((byte)Kind).UInt32((uint)Rights);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new((CapKind)reader.ReadByte(), (CapRights)reader.ReadUInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
