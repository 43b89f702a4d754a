using System.Runtime.InteropServices;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.CreateThread"/>: a factory creates a receiving thread; the client passes its doorbell region.</summary>
internal static class CreateThread
{
    /// <summary>The factory and the thread's doorbell (a size-sealed memfd).</summary>
    internal readonly record struct Request(int Factory, SafeFileHandle Doorbell) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.CreateThread;

        public SafeHandle[] Fds => [Doorbell];

        public void Write(Payload payload) => payload.Int32(Factory);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), null!);
            reader.End();
            SafeFileHandle[] taken = Descriptors.TakeAll(fds, 1);
            return message with { Doorbell = taken[0] };
        }
    }

    /// <summary>The thread capability's slot and the thread's id (as notifications name it).</summary>
    internal readonly record struct Reply(int Slot, int ThreadId) : IControlMessage<Reply>
    {
        public void Write(Payload payload) => payload.Int32(Slot).Int32(ThreadId);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadInt32(), reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
