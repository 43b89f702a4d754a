using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.NameQuery"/>: look a name up, waiting up to a timeout; the capability is mapped into the caller.</summary>
internal static class NameQuery
{
    /// <summary>The namespace, the timeout in ms (-1: forever, 0: do not wait), and the name.</summary>
    internal readonly record struct Request(int Namespace, int TimeoutMs, string Name) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.NameQuery;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Namespace).Int32(TimeoutMs).String(Name);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadInt32(), reader.ReadString(ProtocolLimits.MaxNameLength, "a name"));
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>The slot of the mapped capability, its kind and rights.</summary>
    internal readonly record struct Reply(int Slot, CapKind Kind, CapRights Rights) : IControlMessage<Reply>
    {
        public void Write(Payload payload) => payload.Int32(Slot).Byte((byte)Kind).UInt32((uint)Rights);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadInt32(), (CapKind)reader.ReadByte(), (CapRights)reader.ReadUInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
