using System.Buffers.Binary;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// The record format of every MediaStream channel, in one place for both ends. A record starts with a 24-byte header,
/// little-endian:
/// <code>
///   0        8        16     20     24
///   | index  | stamp  | slot | 0    | frame bytes (FIFO transport only) …
/// </code>
/// FIFO transport: header + the whole frame. Pool transport: the header alone (the frame is in the pool slot).
/// The free-slot channel back to the source carries the header with the slot it returns.
/// </summary>
internal static class FrameRecord
{
    /// <summary>Bytes of the header.</summary>
    public const int HeaderSize = 24;

    /// <summary>Writes <paramref name="info"/> as the header at the start of <paramref name="record"/>.</summary>
    public static void Write(Span<byte> record, in FrameInfo info)
    {
        BinaryPrimitives.WriteInt64LittleEndian(record, info.Index);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], info.Stamp);
        BinaryPrimitives.WriteInt32LittleEndian(record[16..], info.Slot);
        BinaryPrimitives.WriteInt32LittleEndian(record[20..], 0);
    }

    /// <summary>
    /// Reads a header from shared memory the peer can write: every field once, into the result; the caller validates
    /// the result, never the memory. False when the record is too short to hold one.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> record, out FrameInfo info)
    {
        if (record.Length < HeaderSize)
        {
            info = default;
            return false;
        }

        info = new FrameInfo(
            BinaryPrimitives.ReadInt64LittleEndian(record),
            BinaryPrimitives.ReadInt64LittleEndian(record[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(record[16..]));
        return true;
    }
}
