using System.Buffers.Binary;
using System.Text;

namespace L4Rt.Protocol;

/// <summary>
/// Reads a frame's payload. Every read is bounds-checked; a short or malformed payload throws
/// <see cref="L4RtException"/> with <see cref="L4Status.ProtocolViolation"/>, which the receiving side
/// turns into an error reply (broker) or a failed call (SDK).
/// </summary>
internal ref struct FrameReader
{
    private readonly ReadOnlySpan<byte> _payload;
    private int _position;

    internal FrameReader(ReadOnlySpan<byte> payload) => _payload = payload;

    internal readonly int Remaining => _payload.Length - _position;

    internal int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    internal uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    internal long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    internal ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    internal byte ReadByte() => Take(1)[0];

    internal string ReadString()
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
        ReadOnlySpan<byte> bytes = Take(length);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new L4RtException(L4Status.ProtocolViolation, "string field is not valid UTF-8", e);
        }
    }

    /// <summary>Fails unless the whole payload was consumed (no trailing garbage).</summary>
    internal readonly void End()
    {
        if (_position != _payload.Length)
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"{_payload.Length - _position} unexpected trailing bytes in frame");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _payload.Length - _position)
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"frame payload too short: needed {count} more bytes, {_payload.Length - _position} left");
        }

        ReadOnlySpan<byte> span = _payload.Slice(_position, count);
        _position += count;
        return span;
    }
}
