using System.Buffers.Binary;
using System.Text;

namespace L4Rt.Protocol;

/// <summary>Builds a frame payload: little-endian fields appended in order (control plane only; not a hot path).</summary>
internal sealed class Payload
{
    private byte[] _buffer = new byte[64];
    private int _length;

    internal ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    internal Payload Int32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);
        return this;
    }

    internal Payload UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);
        return this;
    }

    internal Payload Int64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);
        return this;
    }

    internal Payload UInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);
        return this;
    }

    internal Payload Byte(byte value)
    {
        Take(1)[0] = value;
        return this;
    }

    /// <summary>A u16 byte length followed by UTF-8.</summary>
    internal Payload String(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException("string too long for a frame", nameof(value));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(Take(2), (ushort)length);
        Encoding.UTF8.GetBytes(value, Take(length));
        return this;
    }

    /// <summary>As <see cref="String(string)"/>, cut (at a character boundary, marked with "…") to at most <paramref name="maxBytes"/> bytes.</summary>
    internal Payload String(string value, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(value) <= maxBytes)
        {
            return String(value);
        }

        const string Mark = "…";
        int budget = maxBytes - Encoding.UTF8.GetByteCount(Mark);
        int chars = Math.Min(value.Length, budget);
        while (chars > 0 && Encoding.UTF8.GetByteCount(value.AsSpan(0, chars)) > budget)
        {
            chars--;
        }

        if (chars > 0 && char.IsHighSurrogate(value[chars - 1]))
        {
            chars--;
        }

        return String(string.Concat(value.AsSpan(0, chars), Mark));
    }

    internal int Length => _length;

    internal Payload Bytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Take(bytes.Length));
        return this;
    }

    /// <summary>Header + payload as one frame, ready to send.</summary>
    internal static byte[] Frame(FrameKind kind, Opcode opcode, uint requestId, L4Status status, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > ProtocolLimits.MaxFrameSize - FrameHeader.Size)
        {
            throw new InvalidOperationException($"frame exceeds {ProtocolLimits.MaxFrameSize} bytes");
        }

        byte[] frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(kind, opcode, status, requestId, payload.Length).Write(frame);
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        return frame;
    }

    private Span<byte> Take(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        Span<byte> span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
