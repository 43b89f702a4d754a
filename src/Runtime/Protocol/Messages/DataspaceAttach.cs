using System.Runtime.InteropServices;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.DataspaceAttach"/>: the memory of a dataspace, to map. Writable needs <see cref="CapRights.Write"/>
/// and gets the read-write descriptor; read-only needs <see cref="CapRights.Read"/> and gets a read-only one. Backing
/// (<see cref="Backing"/>, paged dataspaces only) needs <see cref="CapRights.Write"/> and gets the read-write descriptor
/// for a pager to place pages through, with no pager capability.
/// </summary>
internal static class DataspaceAttach
{
    /// <summary>Access: read-only.</summary>
    internal const byte ReadOnly = 0;

    /// <summary>Access: read-write.</summary>
    internal const byte ReadWrite = 1;

    /// <summary>Access: a pager's own mapping of a paged dataspace, to supply pages through.</summary>
    internal const byte Backing = 2;

    /// <summary>The dataspace and the access: <see cref="ReadOnly"/>, <see cref="ReadWrite"/> or <see cref="Backing"/>.</summary>
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

    /// <summary>
    /// The size, the token revocations of this capability will name, and the memory. For a paged dataspace mapped
    /// read-only or read-write: <see cref="PagerSlot"/> is a send-only capability to the pager in the caller's space
    /// (−1 when the dataspace is not paged, or for a backing), <see cref="PagerId"/> the id the pager knows the
    /// dataspace by, and <see cref="FaultTimeoutMs"/> how long a fault waits for it (0 when not paged).
    /// </summary>
    internal readonly record struct Reply(long Size, long Token, SafeFileHandle Memory, int PagerSlot = -1, ulong PagerId = 0, int FaultTimeoutMs = 0) : IControlMessage<Reply>
    {
        public SafeHandle[] Fds => [Memory];

        public void Write(Payload payload) => payload.Int64(Size).Int64(Token).Int32(PagerSlot).UInt64(PagerId).Int32(FaultTimeoutMs);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadInt64(), reader.ReadInt64(), null!, reader.ReadInt32(), reader.ReadUInt64(), reader.ReadInt32());
            reader.End();
            SafeFileHandle[] taken = Descriptors.TakeAll(fds, 1);
            return message with { Memory = taken[0] };
        }
    }
}
