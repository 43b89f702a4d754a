using System.Runtime.CompilerServices;

namespace L4Rt.Ipc;

/// <summary>
/// The message tag: what a message carries. <see cref="Protocol"/> names the kind of communication
/// (user-defined when ≥ 0, system-defined when negative, see <see cref="SystemProtocol"/>);
/// <see cref="Words"/> untyped message registers are copied directly; <see cref="Items"/> typed items
/// (capabilities, flexpages) of two words each follow them; sending items is not supported yet (no path carries them).
/// </summary>
/// <remarks>
/// Raw encoding (64 bits): bits 0–6 words, bits 8–14 items, bits 16–31 flags, bits 32–63 protocol.
/// A raw tag read from shared memory is decoded with <see cref="TryDecode"/>, which rejects anything out of range.
/// </remarks>
public readonly struct MsgTag : IEquatable<MsgTag>
{
    /// <summary>The number of message registers (MR0..MR62) in a UTCB; the tag travels beside them.</summary>
    public const int MaxWords = 63;

    /// <summary>Registers one typed item occupies.</summary>
    public const int WordsPerItem = 2;

    private readonly ulong _raw;

    /// <summary>Creates a tag; throws when <paramref name="words"/> and <paramref name="items"/> do not fit the UTCB.</summary>
    public MsgTag(int protocol, int words = 0, int items = 0, MsgTagFlags flags = MsgTagFlags.None)
    {
        if ((uint)words > MaxWords || (uint)items > MaxWords / WordsPerItem || words + (items * WordsPerItem) > MaxWords)
        {
            ThrowHelper.ThrowTagOutOfRange(words, items);
        }

        _raw = Encode(protocol, words, items, flags);
    }

    private MsgTag(ulong raw) => _raw = raw;

    /// <summary>The protocol: user-defined (≥ 0) or a <see cref="SystemProtocol"/> (negative).</summary>
    public int Protocol => (int)(_raw >> 32);

    /// <summary>Number of untyped words (MR0..MR[Words-1]).</summary>
    public int Words => (int)(_raw & 0x7F);

    /// <summary>Number of typed items following the words.</summary>
    public int Items => (int)((_raw >> 8) & 0x7F);

    /// <summary>Special-purpose flags.</summary>
    public MsgTagFlags Flags => (MsgTagFlags)((_raw >> 16) & 0xFFFF);

    /// <summary>The 64-bit encoding that travels in a message slot.</summary>
    public ulong Raw => _raw;

    /// <summary>Decodes a raw tag from untrusted memory; false when any field is out of range or a reserved bit is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // once per message taken and per reply read
    public static bool TryDecode(ulong raw, out MsgTag tag)
    {
        int words = (int)(raw & 0x7F);
        int items = (int)((raw >> 8) & 0x7F);
        bool reservedClear = (raw & 0x8080UL) == 0;
        if (!reservedClear || words > MaxWords || items > MaxWords / WordsPerItem || words + (items * WordsPerItem) > MaxWords)
        {
            tag = default;
            return false;
        }

        tag = new MsgTag(raw);
        return true;
    }

    /// <summary>This tag with another word count.</summary>
    public MsgTag WithWords(int words) => new(Protocol, words, Items, Flags);

    /// <inheritdoc/>
    public bool Equals(MsgTag other) => _raw == other._raw;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MsgTag other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _raw.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"MsgTag(protocol {Protocol}, words {Words}, items {Items}, flags {Flags})";

    /// <summary>Equality of the raw encodings.</summary>
    public static bool operator ==(MsgTag left, MsgTag right) => left.Equals(right);

    /// <summary>Inequality of the raw encodings.</summary>
    public static bool operator !=(MsgTag left, MsgTag right) => !left.Equals(right);

    private static ulong Encode(int protocol, int words, int items, MsgTagFlags flags) =>
        ((ulong)(uint)protocol << 32) | ((ulong)(ushort)flags << 16) | ((ulong)(uint)items << 8) | (ulong)(uint)words;
}
