namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.Status"/>, paged: the broker serializes one consistent JSON snapshot per request with
/// snapshot 0 and hands it out in chunks that fit a frame; the client asks for the next offset of the same
/// snapshot until it has all of it. Request: u32 snapshot (0: take a new one), i32 offset.
/// Reply: u32 snapshot, i32 total bytes, then the chunk's bytes (the rest of the payload).
/// </summary>
internal static class StatusPage
{
    /// <summary>The most JSON bytes in one reply.</summary>
    internal const int ChunkSize = ProtocolLimits.MaxFrameSize - FrameHeader.Size - 8;

    internal static Payload Request(uint snapshot, int offset) => new Payload().UInt32(snapshot).Int32(offset);

    internal static (uint Snapshot, int Offset) ReadRequest(ref FrameReader reader)
    {
        uint snapshot = reader.ReadUInt32();
        int offset = reader.ReadInt32();
        reader.End();
        return (snapshot, offset);
    }

    internal static Payload Reply(uint snapshot, int total, ReadOnlySpan<byte> chunk) =>
        new Payload().UInt32(snapshot).Int32(total).Bytes(chunk);

    internal static (uint Snapshot, int Total) ReadReplyHeader(ref FrameReader reader) => (reader.ReadUInt32(), reader.ReadInt32());
}
