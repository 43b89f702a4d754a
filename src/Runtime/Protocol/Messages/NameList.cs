using System.Runtime.InteropServices;
using System.Text;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.NameList"/>, paged: the request names the last entry the client has seen (empty: from the
/// start); the reply carries as many entries, in ordinal order, as fit one frame, and whether more follow.
/// </summary>
internal static class NameList
{
    /// <summary>The reply's fixed part: total, count, more.</summary>
    private const int FixedSize = 4 + 4 + 1;

    /// <summary>Room for entries in one reply frame.</summary>
    internal const int EntryBudget = ProtocolLimits.MaxFrameSize - FrameHeader.Size - FixedSize;

    /// <summary>The wire size of one entry.</summary>
    internal static int EntrySize(string name) => 2 + Encoding.UTF8.GetByteCount(name) + 1 + 4 + 4;

    /// <summary>The namespace and the name to list after (at most 128 bytes; empty: from the start).</summary>
    internal readonly record struct Request(int Namespace, string After) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.NameList;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Namespace).String(After);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadString(ProtocolLimits.MaxNameLength, "the name to list after"));
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>One registration as listed.</summary>
    internal readonly record struct Entry(string Name, CapKind Kind, CapRights Rights, int Registrant);

    /// <summary>How many names there are in all, one page of them (chosen to fit <see cref="EntryBudget"/>), and whether more follow.</summary>
    internal readonly record struct Reply(int Total, IReadOnlyList<Entry> Entries, bool More) : IControlMessage<Reply>
    {
        public void Write(Payload payload)
        {
            payload.Int32(Total).Int32(Entries.Count);
            foreach (Entry entry in Entries)
            {
                payload.String(entry.Name).Byte((byte)entry.Kind).UInt32((uint)entry.Rights).Int32(entry.Registrant);
            }

            payload.Byte(More ? (byte)1 : (byte)0);
        }

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            int total = reader.ReadInt32();
            int count = reader.ReadInt32();
            if (count < 0 || count > EntryBudget / EntrySize("x"))
            {
                throw new L4RtException(L4Status.ProtocolViolation, $"a name-list page claims {count} entries");
            }

            Entry[] entries = new Entry[count];
            for (int i = 0; i < count; i++)
            {
                entries[i] = new(reader.ReadString(ProtocolLimits.MaxNameLength, "a listed name"), (CapKind)reader.ReadByte(), (CapRights)reader.ReadUInt32(), reader.ReadInt32());
            }

            bool more = reader.ReadByte() != 0;
            reader.End();
            Descriptors.Expect(fds, 0);
            return new(total, entries, more);
        }
    }
}
