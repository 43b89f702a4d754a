using System.Runtime.InteropServices;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.GateLink"/>: the first send of a thread on a gate sets up its link.</summary>
internal static class GateLink
{
    /// <summary>The gate.</summary>
    internal readonly record struct Request(int Gate) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.GateLink;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Gate);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>The link's id (for <see cref="Opcode.LinkClose"/>), its region and the receiver's doorbell.</summary>
    internal readonly record struct Reply(long LinkId, SafeFileHandle Region, SafeFileHandle Doorbell) : IControlMessage<Reply>
    {
        public SafeHandle[] Fds => [Region, Doorbell];

        public void Write(Payload payload) => payload.Int64(LinkId);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadInt64(), null!, null!);
            reader.End();
            SafeFileHandle[] taken = Descriptors.TakeAll(fds, 2);
            return message with { Region = taken[0], Doorbell = taken[1] };
        }
    }
}
