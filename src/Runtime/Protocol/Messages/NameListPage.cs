namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.NameList"/>, paged: the request (after the namespace cap) names the last entry the
/// client has seen (empty: start); the reply carries as many entries, in ordinal order, as fit one frame.
/// Reply: i32 total, i32 count, count × (string name, u8 kind, u32 rights, i32 registrant task id), u8 more.
/// </summary>
internal static class NameListPage
{
    /// <summary>The reply's fixed part: total, count, more.</summary>
    private const int FixedSize = 4 + 4 + 1;

    /// <summary>Room for entries in one reply frame.</summary>
    internal const int EntryBudget = ProtocolLimits.MaxFrameSize - FrameHeader.Size - FixedSize;

    internal static Payload Request(int namespaceSlot, string after) => new Payload().Int32(namespaceSlot).String(after);

    /// <summary>The name to list after, at most <see cref="ProtocolLimits.MaxNameLength"/> bytes; the payload must end there.</summary>
    internal static string ReadRequest(ref FrameReader reader)
    {
        string after = reader.ReadString(ProtocolLimits.MaxNameLength, "the name to list after");
        reader.End();
        return after;
    }

    /// <summary>The wire size of one entry.</summary>
    internal static int EntrySize(string name) => 2 + System.Text.Encoding.UTF8.GetByteCount(name) + 1 + 4 + 4;

    /// <summary>Writes a reply page from entries already chosen to fit <see cref="EntryBudget"/>.</summary>
    internal static Payload Reply(int total, IReadOnlyList<(string Name, CapKind Kind, CapRights Rights, int Registrant)> entries, bool more)
    {
        Payload payload = new Payload().Int32(total).Int32(entries.Count);
        foreach ((string name, CapKind kind, CapRights rights, int registrant) in entries)
        {
            payload.String(name).Byte((byte)kind).UInt32((uint)rights).Int32(registrant);
        }

        return payload.Byte(more ? (byte)1 : (byte)0);
    }

    /// <summary>Reads a reply page, appending its entries to <paramref name="into"/>; returns whether more follow.</summary>
    internal static bool ReadReply(ref FrameReader reader, List<(string Name, CapKind Kind, CapRights Rights, int Registrant)> into, out int total)
    {
        total = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (count < 0 || count > EntryBudget / EntrySize("x"))
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"a name-list page claims {count} entries");
        }

        for (int i = 0; i < count; i++)
        {
            into.Add((reader.ReadString(ProtocolLimits.MaxNameLength, "a listed name"), (CapKind)reader.ReadByte(), (CapRights)reader.ReadUInt32(), reader.ReadInt32()));
        }

        bool more = reader.ReadByte() != 0;
        reader.End();
        return more;
    }
}
