using System.Runtime.InteropServices;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.DataspaceAttach"/>: the memory of a dataspace, to map. Writable needs <see cref="CapRights.Write"/>
/// and gets the read-write descriptor; read-only needs <see cref="CapRights.Read"/> and gets a read-only one.
/// </summary>
internal static class DataspaceAttach
{
    /// <summary>The dataspace and whether the mapping is to be writable (1) or read-only (0).</summary>
    internal readonly record struct Request(int Dataspace, byte Writable) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.DataspaceAttach;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Dataspace).Byte(Writable);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadByte());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>The size, the token revocations of this capability will name, and the memory.</summary>
    internal readonly record struct Reply(long Size, long Token, SafeFileHandle Memory) : IControlMessage<Reply>
    {
        public SafeHandle[] Fds => [Memory];

        public void Write(Payload payload) => payload.Int64(Size).Int64(Token);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadInt64(), reader.ReadInt64(), null!);
            reader.End();
            SafeFileHandle[] taken = Descriptors.TakeAll(fds, 1);
            return message with { Memory = taken[0] };
        }
    }
}
