using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.CreateGate"/>: a factory creates a gate bound to a thread, with a label only that thread sees.</summary>
internal static class CreateGate
{
    /// <summary>The factory, the thread the gate delivers to, and the label.</summary>
    internal readonly record struct Request(int Factory, int Thread, ulong Label) : IControlMessage<Request>, IControlRequest<SlotReply>
    {
        public Opcode Opcode => Opcode.CreateGate;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Factory).Int32(Thread).UInt64(Label);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadInt32(), reader.ReadUInt64());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
