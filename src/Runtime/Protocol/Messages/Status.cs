using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.Status"/>, paged: the broker serializes one consistent JSON snapshot for a request with
/// snapshot 0 and hands it out in chunks that fit a frame; the client asks for the next offset of the same
/// snapshot until it has all of it.
/// </summary>
internal static class Status
{
    /// <summary>The most JSON bytes in one reply.</summary>
    internal const int ChunkSize = ProtocolLimits.MaxFrameSize - FrameHeader.Size - 8;

    /// <summary>The snapshot being read (0: take a new one) and the offset of the next chunk.</summary>
    internal readonly record struct Request(uint Snapshot, int Offset) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.Status;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.UInt32(Snapshot).Int32(Offset);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadUInt32(), reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>The snapshot's id, its whole size in bytes, and one chunk of its UTF-8 JSON (at most <see cref="ChunkSize"/>).</summary>
    internal readonly record struct Reply(uint Snapshot, int Total, ReadOnlyMemory<byte> Chunk) : IControlMessage<Reply>
    {
        public void Write(Payload payload) => payload.UInt32(Snapshot).Int32(Total).Bytes(Chunk.Span);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            uint snapshot = reader.ReadUInt32();
            int total = reader.ReadInt32();
            byte[] chunk = reader.ReadRest().ToArray();
            Descriptors.Expect(fds, 0);
            return new(snapshot, total, chunk);
        }
    }
}
