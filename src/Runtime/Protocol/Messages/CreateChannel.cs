using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.CreateChannel"/>: a factory creates a FIFO channel, its ring charged to the byte quota.</summary>
internal static class CreateChannel
{
    /// <summary>The factory and the ring's capacity (a power of two).</summary>
    internal readonly record struct Request(int Factory, long Capacity) : IControlMessage<Request>, IControlRequest<SlotReply>
    {
        public Opcode Opcode => Opcode.CreateChannel;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Factory).Int64(Capacity);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadInt64());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
