using System.Runtime.InteropServices;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.IrqAttach"/>: map an IRQ's trigger region for direct triggering.</summary>
internal static class IrqAttach
{
    /// <summary>The IRQ.</summary>
    internal readonly record struct Request(int Irq) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.IrqAttach;

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

    /// <summary>The IRQ's region and its thread's doorbell.</summary>
    internal readonly record struct Reply(SafeFileHandle Region, SafeFileHandle Doorbell) : IControlMessage<Reply>
    {
        public SafeHandle[] Fds => [Region, Doorbell];

        public void Write(Payload payload)
        {
        }

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(null!, null!);
            reader.End();
            SafeFileHandle[] taken = Descriptors.TakeAll(fds, 2);
            return message with { Region = taken[0], Doorbell = taken[1] };
        }
    }
}
