using System.Diagnostics.CodeAnalysis;
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
///      68    4  ReceiverWaiting   receiver: 0 not waiting,            senders: 2 = wake needed;
///                                 1 spinning, 2 asleep on Seq         nonzero = a zero-timeout send may post
///      72    4  ReceiverDead      death marker                        senders
///      80    8  Summary           senders: set bit i/64;              receiver
///                                 receiver: clears bits it drains
///      88    8  AsleepSince       receiver: Stopwatch time, before    a sender that wakes it (idle or
///                                 raising ReceiverWaiting to 2        just between messages)
///  ---- 128: Hints, 64 × 8 B: bit i set by the sender of link i -----------------------------
///     640       end (the region is one 4 KiB page)
/// </code>
/// The hot line is shared on purpose, unlike the cache-line padding elsewhere: Seq, ReceiverWaiting and Summary
/// are what a sender touches in one post (increment Seq, then read ReceiverWaiting) and what the receiver reads
/// in one look, so one line moves between the cores per post instead of three. Its fields are written by both
/// sides anyway (Seq and Summary by every sender, ReceiverWaiting by the receiver), so padding them apart would
/// add transfers without removing any.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 640)]
internal struct DoorbellLayout
{
    internal const uint MagicValue = 0x4244344C; // "L4DB" little-endian
    internal const uint CurrentVersion = 1;
    internal const int RegionSize = 4096;
    internal const int HintWords = 64;
    internal const int MaxLinks = HintWords * 64;

    /// <summary><see cref="ReceiverWaiting"/>: the receiver is not in a wait.</summary>
    internal const int ReceiverNotWaiting = 0;

    /// <summary><see cref="ReceiverWaiting"/>: the receiver is in a wait and spinning (it will see a post without a wake).</summary>
    internal const int ReceiverSpinning = 1;

    /// <summary><see cref="ReceiverWaiting"/>: the receiver sleeps on <see cref="Seq"/>; a sender must futex-wake it.</summary>
    internal const int ReceiverAsleep = 2;

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

    [FieldOffset(88)]
    public long AsleepSince;

    [FieldOffset(128)]
    public HintWords Hints;

    /// <summary>The doorbell counter, the receiver's futex word.</summary>
    [UnscopedRef]
    internal SharedWord SeqWord => new(ref Seq);

    /// <summary>One of <see cref="ReceiverNotWaiting"/>, <see cref="ReceiverSpinning"/>, <see cref="ReceiverAsleep"/> (or garbage from a hostile sender).</summary>
    [UnscopedRef]
    internal SharedWord ReceiverWaitingWord => new(ref ReceiverWaiting);

    /// <summary>Raised by the death marker when the receiver is gone.</summary>
    [UnscopedRef]
    internal SharedFlag ReceiverDeadFlag => new(ref ReceiverDead);
}

/// <summary>The 4096 hint bits of a <see cref="DoorbellLayout"/>.</summary>
[InlineArray(DoorbellLayout.HintWords)]
internal struct HintWords
{
    private ulong _element0;
}
