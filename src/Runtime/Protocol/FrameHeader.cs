using System.Buffers.Binary;

namespace L4Rt.Protocol;

/// <summary>
/// The 16-byte header of every control-plane frame (one SOCK_SEQPACKET datagram), little-endian:
/// <code>
///  offset size field
///       0    2 Magic 0x344C ("L4")
///       2    1 Version (1)
///       3    1 Kind (request, response, notification)
///       4    2 Opcode
///       6    2 Status (responses: an L4Status; 0 otherwise)
///       8    4 RequestId (chosen by the requester; a response echoes it)
///      12    4 PayloadLength (= frame length − 16)
/// </code>
/// Descriptors travel beside the frame as SCM_RIGHTS. Every field is validated by <see cref="TryParse"/>.
/// </summary>
internal readonly record struct FrameHeader(FrameKind Kind, Opcode Opcode, L4Status Status, uint RequestId, int PayloadLength)
{
    /// <summary>The highest status value this build knows (statuses are numbered densely from 0).</summary>
    private static readonly ushort s_lastStatus = (ushort)Enum.GetValues<L4Status>().Max();

    internal const int Size = 16;
    internal const ushort Magic = 0x344C;
    internal const byte CurrentVersion = 1;

    internal void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Magic);
        destination[2] = CurrentVersion;
        destination[3] = (byte)Kind;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], (ushort)Opcode);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Status);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], RequestId);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], PayloadLength);
    }

    /// <summary>Parses and validates a received frame's header against the frame's actual length.</summary>
    internal static bool TryParse(ReadOnlySpan<byte> frame, out FrameHeader header, out string? error)
    {
        header = default;
        if (frame.Length < Size)
        {
            error = $"frame of {frame.Length} bytes is shorter than the {Size}-byte header";
            return false;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(frame) != Magic)
        {
            error = "bad magic";
            return false;
        }

        if (frame[2] != CurrentVersion)
        {
            error = $"protocol version {frame[2]} is not supported (this side speaks {CurrentVersion})";
            return false;
        }

        FrameKind kind = (FrameKind)frame[3];
        if (kind is not (FrameKind.Request or FrameKind.Response or FrameKind.Notification))
        {
            error = $"unknown frame kind {frame[3]}";
            return false;
        }

        ushort status = BinaryPrimitives.ReadUInt16LittleEndian(frame[6..]);
        if (status > s_lastStatus)
        {
            error = $"unknown status {status}";
            return false;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(frame[12..]);
        if (length != frame.Length - Size)
        {
            error = $"payload length {length} does not match the frame ({frame.Length - Size} bytes)";
            return false;
        }

        header = new FrameHeader(kind, (Opcode)BinaryPrimitives.ReadUInt16LittleEndian(frame[4..]), (L4Status)status,
            BinaryPrimitives.ReadUInt32LittleEndian(frame[8..]), length);
        error = null;
        return true;
    }
}
