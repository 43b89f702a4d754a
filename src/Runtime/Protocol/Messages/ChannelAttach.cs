using System.Runtime.InteropServices;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.ChannelAttach"/>: take one end of a channel (producer needs Write, consumer Send).</summary>
internal static class ChannelAttach
{
    /// <summary>The channel and the role: 1 producer, 0 consumer.</summary>
    internal readonly record struct Request(int Channel, byte Role) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.ChannelAttach;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Channel).Byte(Role);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadByte());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>The ring's capacity and the ring itself.</summary>
    internal readonly record struct Reply(long Capacity, SafeFileHandle Ring) : IControlMessage<Reply>
    {
        public SafeHandle[] Fds => [Ring];

        public void Write(Payload payload) => payload.Int64(Capacity);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadInt64(), null!);
            reader.End();
            SafeFileHandle[] taken = Descriptors.TakeAll(fds, 1);
            return message with { Ring = taken[0] };
        }
    }
}
