using L4Rt.Ipc;
using L4Rt.Protocol;

namespace L4Rt.Objects;

/// <summary>What a typed item carries: a capability (<see cref="Object"/>) or a flexpage of a dataspace (<see cref="Memory"/>).</summary>
public enum MsgItemKind
{
    /// <summary>Not a valid item.</summary>
    None = 0,

    /// <summary>An object item: a capability, mapped (copied with equal or fewer rights) or granted (moved).</summary>
    Object = 1,

    /// <summary>A memory item: a page-aligned range of a dataspace, mapped into the receiver's receive window.</summary>
    Memory = 2,
}

/// <summary>
/// A typed item: two message registers after a message's untyped words (<see cref="MsgTag.Items"/> counts them).
/// Items are not copied like words: a message carrying them goes through the broker, which checks each capability
/// and its rights and installs what arrives in the receiver's buffer registers' slots and window, atomically with the
/// words (see <see cref="Utcb.Br"/>). On the receiving side the same two registers describe what arrived: the slot a
/// capability landed in, or the received mapping (see <c>L4ThreadExtensions.GetReceivedCapability</c>/<c>GetReceivedMapping</c>).
/// </summary>
/// <remarks>
/// Encoding, first word: bits 0–3 <see cref="Kind"/>, bit 4 grant, bits 8–15 <see cref="Rights"/>, bits 32–63 the
/// capability slot (on receipt: the slot it landed in, or the index of the received mapping). Second word of a memory
/// item: bits 0–31 offset, bits 32–63 size, both in pages; of a received object item: its <see cref="CapKind"/>.
/// </remarks>
public readonly record struct MsgItem
{
    private const ulong GrantBit = 0x10;

    private MsgItem(ulong first, ulong second)
    {
        First = first;
        Second = second;
    }

    /// <summary>The first register of the item.</summary>
    public ulong First { get; }

    /// <summary>The second register of the item.</summary>
    public ulong Second { get; }

    /// <summary>Object or memory item (<see cref="MsgItemKind.None"/> for a malformed one).</summary>
    public MsgItemKind Kind => (First & 0xF) switch
    {
        1 => MsgItemKind.Object,
        2 => MsgItemKind.Memory,
        _ => MsgItemKind.None,
    };

    /// <summary>A grant: the sender's capability moves (instead of being copied).</summary>
    public bool IsGrant => (First & GrantBit) != 0;

    /// <summary>The rights the item passes on (at most those of the capability it names).</summary>
    public CapRights Rights => (CapRights)((First >> 8) & 0xFF);

    /// <summary>The capability slot (sending); the slot it landed in or the received mapping's index (received).</summary>
    public int Slot => (int)(uint)(First >> 32);

    /// <summary>A memory item's offset into the dataspace, in bytes.</summary>
    public long Offset => (long)(Second & 0xFFFF_FFFF) * ProtocolLimits.PageSize;

    /// <summary>A memory item's size, in bytes.</summary>
    public long Size => (long)(Second >> 32) * ProtocolLimits.PageSize;

    /// <summary>The kind of object a received object item names.</summary>
    public CapKind ObjectKind => (CapKind)(int)Second;

    /// <summary>An object item that maps the capability in <paramref name="slot"/>: the receiver gets a copy with <paramref name="rights"/> (at most the capability's own).</summary>
    public static MsgItem MapObject(int slot, CapRights rights) => Object(slot, rights, grant: false);

    /// <summary>An object item that grants (moves) the capability in <paramref name="slot"/>, keeping at most <paramref name="rights"/>.</summary>
    public static MsgItem GrantObject(int slot, CapRights rights = CapRights.All) => Object(slot, rights, grant: true);

    /// <summary>
    /// A memory item (flexpage): <paramref name="size"/> bytes at <paramref name="offset"/> of the dataspace in
    /// <paramref name="slot"/>, both whole pages, mapped read-only (<see cref="CapRights.Read"/>) or read-write (<see cref="CapRights.Write"/>).
    /// </summary>
    public static MsgItem MapMemory(int slot, long offset, long size, CapRights rights)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (offset < 0 || size <= 0 || offset % ProtocolLimits.PageSize != 0 || size % ProtocolLimits.PageSize != 0
            || offset / ProtocolLimits.PageSize > uint.MaxValue || size / ProtocolLimits.PageSize > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"a flexpage is whole pages ({ProtocolLimits.PageSize} bytes): offset {offset}, size {size}");
        }

        if ((rights & (CapRights.Read | CapRights.Write)) == 0)
        {
            throw new ArgumentException("A flexpage is mapped read-only (CapRights.Read) or read-write (CapRights.Write).", nameof(rights));
        }

        ulong pages = ((ulong)(size / ProtocolLimits.PageSize) << 32) | (ulong)(offset / ProtocolLimits.PageSize);
        return new(Encode(MsgItemKind.Memory, grant: false, rights, (uint)slot), pages);
    }

    /// <summary>An object item that maps <paramref name="capability"/> with at most <paramref name="rights"/> (see <see cref="MapObject"/>).</summary>
    public static MsgItem Map(Capability capability, CapRights rights = CapRights.All)
    {
        ArgumentNullException.ThrowIfNull(capability);
        return MapObject(capability.Slot, rights);
    }

    /// <summary>An object item that grants (moves) <paramref name="capability"/>: once delivered, this task's slot is empty.</summary>
    public static MsgItem Grant(Capability capability, CapRights rights = CapRights.All)
    {
        ArgumentNullException.ThrowIfNull(capability);
        return GrantObject(capability.Slot, rights);
    }

    /// <summary>A memory item: <paramref name="size"/> bytes at <paramref name="offset"/> of <paramref name="dataspace"/> (see <see cref="MapMemory"/>).</summary>
    public static MsgItem Flexpage(Dataspace dataspace, long offset, long size, CapRights rights)
    {
        ArgumentNullException.ThrowIfNull(dataspace);
        return MapMemory(dataspace.Slot, offset, size, rights);
    }

    /// <summary>Reads an item from two registers (for instance from untrusted memory; <see cref="Kind"/> tells whether it is valid).</summary>
    public static MsgItem FromRegisters(ulong first, ulong second) => new(first, second);

    /// <summary>Writes the item to <paramref name="registers"/>[0..2].</summary>
    public void WriteTo(Span<ulong> registers)
    {
        registers[0] = First;
        registers[1] = Second;
    }

    /// <summary>A received object item: the slot it landed in.</summary>
    internal static MsgItem ReceivedObject(int slot, CapRights rights, CapKind kind, bool grant) =>
        new(Encode(MsgItemKind.Object, grant, rights, (uint)slot), (ulong)(int)kind);

    /// <summary>A received memory item: the index of its mapping, and where in the dataspace it came from.</summary>
    internal static MsgItem ReceivedMemory(int index, CapRights rights, long offset, long size) =>
        new(Encode(MsgItemKind.Memory, grant: false, rights, (uint)index), ((ulong)(size / ProtocolLimits.PageSize) << 32) | (ulong)(offset / ProtocolLimits.PageSize));

    private static MsgItem Object(int slot, CapRights rights, bool grant)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        return new(Encode(MsgItemKind.Object, grant, rights, (uint)slot), 0);
    }

    private static ulong Encode(MsgItemKind kind, bool grant, CapRights rights, uint slot) =>
        ((ulong)slot << 32) | ((ulong)((uint)rights & 0xFF) << 8) | (grant ? GrantBit : 0) | (ulong)kind;
}
