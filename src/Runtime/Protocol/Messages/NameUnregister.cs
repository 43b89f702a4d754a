using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.NameUnregister"/>: remove a name this task registered.</summary>
internal static class NameUnregister
{
    /// <summary>The namespace and the name.</summary>
    internal readonly record struct Request(int Namespace, string Name) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.NameUnregister;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Namespace).String(Name);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadString(ProtocolLimits.MaxNameLength, "a name"));
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
