using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.CreateIrq"/>: a factory creates an IRQ bound to a thread (answered once that thread's task acknowledged it).</summary>
internal static class CreateIrq
{
    /// <summary>The factory, the thread the IRQ arrives at, and the label.</summary>
    internal readonly record struct Request(int Factory, int Thread, ulong Label) : IControlMessage<Request>, IControlRequest<SlotReply>
    {
        public Opcode Opcode => Opcode.CreateIrq;

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
