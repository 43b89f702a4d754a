using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.IrqTrigger"/>: trigger an IRQ through the broker.</summary>
internal static class IrqTrigger
{
    /// <summary>The IRQ.</summary>
    internal readonly record struct Request(int Irq) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.IrqTrigger;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Irq);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
