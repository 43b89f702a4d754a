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

    internal string ReadString() => ReadString(ushort.MaxValue, "string field");

    /// <summary>A string of at most <paramref name="maxBytes"/> bytes of UTF-8; a longer one is refused before it is decoded.</summary>
    internal string ReadString(int maxBytes, string what)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
        if (length > maxBytes)
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"{what} is {length} bytes; at most {maxBytes} are allowed");
        }

        ReadOnlySpan<byte> bytes = Take(length);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"{what} is not valid UTF-8", e);
        }
    }

    /// <summary>Everything not read yet (a trailing byte field).</summary>
    internal ReadOnlySpan<byte> ReadRest() => Take(Remaining);

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
