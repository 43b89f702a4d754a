using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace L4Rt.Memory;

/// <summary>
/// The doorbell region of one receiving thread, mapped by every sender that holds a link to it. It carries
/// only hints: which links may hold a message. The receiver validates each hint against the link's own
/// State, so a hostile sender that scribbles here can delay messages (until the receiver's periodic full
/// scan) but can neither forge one nor make the receiver read out of bounds.
/// <code>
///  offset size  field             written by                          read by
///  ------ ----  ----------------  ----------------------------------  ---------------------
///       0    4  Magic 'L4DB'      creator                             attachers
///       4    4  Version           creator
///       8    4  Capacity          creator (= 4096 link hints)         receiver uses its own constant
///  ---- 64: hot line ---------------------------------------------------------------------------
///      64    4  Seq               senders: +1 after posting;          receiver: its futex word
///                                 death marker: +1
///      68    4  ReceiverWaiting   receiver (1 while asleep)           senders: wake needed?
///      72    4  ReceiverDead      death marker                        senders
///      80    8  Summary           senders: set bit i/64;              receiver
///                                 receiver: clears bits it drains
///  ---- 128: Hints, 64 × 8 B: bit i set by the sender of link i -----------------------------
///     640       end (the region is one 4 KiB page)
/// </code>
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 640)]
internal struct DoorbellLayout
{
    internal const uint MagicValue = 0x4244344C; // "L4DB" little-endian
    internal const uint CurrentVersion = 1;
    internal const int RegionSize = 4096;
    internal const int HintWords = 64;
    internal const int MaxLinks = HintWords * 64;

    [FieldOffset(0)]
    public uint Magic;

    [FieldOffset(4)]
    public uint Version;

    [FieldOffset(8)]
    public int Capacity;

    [FieldOffset(64)]
    public int Seq;

    [FieldOffset(68)]
    public int ReceiverWaiting;

    [FieldOffset(72)]
    public int ReceiverDead;

    [FieldOffset(80)]
    public ulong Summary;

    [FieldOffset(128)]
    public HintWords Hints;
}

/// <summary>The 4096 hint bits of a <see cref="DoorbellLayout"/>.</summary>
[InlineArray(DoorbellLayout.HintWords)]
internal struct HintWords
{
    private ulong _element0;
}
