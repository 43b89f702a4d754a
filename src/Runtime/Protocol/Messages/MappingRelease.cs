using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.MappingRelease"/>: a task unmapped a flexpage it received; the broker removes that mapping (and what was derived from it).</summary>
internal static class MappingRelease
{
    /// <summary>The token the mapping was received with.</summary>
    internal readonly record struct Request(long Token) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.MappingRelease;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int64(Token);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt64());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
