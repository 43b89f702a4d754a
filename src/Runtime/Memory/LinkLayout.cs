using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace L4Rt.Memory;

/// <summary>
/// The link region: shared by exactly one sender thread and one receiver thread, so neither can read or
/// write any other party's messages. Version at offset 0; each line that moves per message is written by one
/// side at a time. The control line carries the request: State, the request's tag and, for a message of up to
/// <see cref="InlineWords"/> words, its words, so a short request moves one line and the receiver's look at State
/// already brought its words. The reply line carries the reply the same way, with <see cref="ReplyState"/>: a caller
/// spins on the reply line alone, so the receiver's commits on the control line (take, then reply) stay in the
/// receiver's cache and a call moves each line once per direction. Longer messages put all their words in their
/// direction's MR lines (8 words: one line). What changes rarely (the futex word, the waiting and watching flags,
/// the death flags, the caller's receive timeout) lives on the first line, which both sides then read from their
/// own caches.
/// <code>
///  offset size  field             written by                     read by
///  ------ ----  ----------------  -----------------------------  ------------------------------
///       0    4  Magic 'L4LK'      creator (broker / setup)       both, once at attach
///       4    4  Version           creator                        both, once at attach
///       8    4  HintIndex         creator                        sender: its bit in the doorbell
///      12    4  SenderWake        receiver, death marker         sender: its futex word
///      16    4  SenderDead        death marker                   receiver
///      20    4  ReceiverDead      death marker                   sender
///      24    8  CallReceiveTimeout sender, before posting a call  receiver, as it takes the call
///                                 when it changed (its receive
///                                 timeout in ns: 0 zero, &lt; 0
///                                 never)
///      32    4  SenderWaiting     sender (1 while asleep)        receiver: wake needed?
///      36    4  ReceiverWatching  receiver (1 while it spins     sender: doorbell may be skipped
///                                 on this link's State)
///      40   24  (reserved)
///  ---- 64: control line: the request, and every commit ----------------------------------------
///      64    4  State             both, by CAS: seq&lt;&lt;4 | code  both
///      68    4  (reserved)
///      72    8  RequestTag        sender, before posting         receiver: read once, validated
///      80   48  RequestInline     sender: MR0..5 of a request    receiver
///                                 of at most 6 words
///  ---- 128: reply line: written by the receiver only -------------------------------------------
///     128    4  ReplyState        receiver, after it committed   caller: spins on it
///                                 a call's outcome: that state
///     132    4  (reserved)
///     136    8  ReplyTag          receiver, before replying      sender: read once, validated
///     144   48  ReplyInline       receiver: MR0..5 of a reply    sender
///                                 of at most 6 words
///     192   64  (reserved: keeps the request words out of the reply line's 128-byte prefetch pair)
///  ---- 256: Request MR0..62, 504 B, written by the sender only (requests of 7+ words) ---------
///  ---- 768: Reply MR0..62,   504 B, written by the receiver only (replies of 7+ words) --------
///    1272       end (the region is one 4 KiB page)
/// </code>
/// The label of the link is deliberately absent: it lives in the receiver's private memory.
/// An IRQ object uses the same layout: State counts pending triggers (added by triggerers, taken to 0 by
/// the receiver); the slots are unused. Whether an entry is a link or an IRQ is the receiver's private knowledge.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 1272)]
internal struct LinkLayout
{
    internal const uint MagicValue = 0x4B4C344C; // "L4LK" little-endian
    internal const uint CurrentVersion = 6; // 2: no Receiving/Replying states; 3: CallReceiveTimeout; 4: tags in the control line; 5: short messages in the control line; 6: the reply line
    internal const int RegionSize = 4096;

    /// <summary>A message of at most this many words rides in the control line (<see cref="RequestInline"/>, <see cref="ReplyInline"/>).</summary>
    internal const int InlineWords = ShortWords.Count;

    [FieldOffset(0)]
    public uint Magic;

    [FieldOffset(4)]
    public uint Version;

    [FieldOffset(8)]
    public int HintIndex;

    [FieldOffset(12)]
    public int SenderWake;

    [FieldOffset(16)]
    public int SenderDead;

    [FieldOffset(20)]
    public int ReceiverDead;

    /// <summary>The caller's receive timeout (ns; 0 zero, &lt; 0 never), written before a call is posted when it changed: a server that forwards the call bounds its own wait by it.</summary>
    [FieldOffset(24)]
    public long CallReceiveTimeout;

    [FieldOffset(32)]
    public int SenderWaiting;

    [FieldOffset(36)]
    public int ReceiverWatching;

    [FieldOffset(64)]
    public int State;

    /// <summary>The request's raw tag (the sender's word: validated by the receiver, read once).</summary>
    [FieldOffset(72)]
    public ulong RequestTag;

    /// <summary>The words of a request of at most <see cref="InlineWords"/> words.</summary>
    [FieldOffset(80)]
    public ShortWords RequestInline;

    /// <summary>
    /// The state the receiver committed a call to (Replied, ReplyDropped, ItemsRefused, Rejected), stored after its CAS
    /// on State succeeded: a notice of a decision already taken there, on the line the caller spins on.
    /// </summary>
    [FieldOffset(128)]
    public int ReplyState;

    /// <summary>The reply's raw tag, or a refusal status (the receiver's word: validated by the sender, read once).</summary>
    [FieldOffset(136)]
    public ulong ReplyTag;

    /// <summary>The words of a reply of at most <see cref="InlineWords"/> words.</summary>
    [FieldOffset(144)]
    public ShortWords ReplyInline;

    [FieldOffset(256)]
    public MessageWords RequestMr;

    [FieldOffset(768)]
    public MessageWords ReplyMr;

    /// <summary>seq&lt;&lt;4 | code, moved on by CAS (a count of triggers for an IRQ).</summary>
    [UnscopedRef]
    internal SharedWord StateWord => new(ref State);

    /// <summary>The receiver's notice of a call's committed outcome (see <see cref="ReplyState"/>).</summary>
    [UnscopedRef]
    internal SharedWord ReplyStateWord => new(ref ReplyState);

    /// <summary>The sender's futex word, bumped by whoever wakes it.</summary>
    [UnscopedRef]
    internal SharedWord SenderWakeWord => new(ref SenderWake);

    /// <summary>
    /// The sender, before it posts a call: stores its receive timeout only when it differs from the last one, so the
    /// first line is not written per call and stays in both sides' caches (the receiver reads it with every call).
    /// </summary>
    internal void PublishCallReceiveTimeout(long nanoseconds)
    {
        if (CallReceiveTimeout != nanoseconds)
        {
            CallReceiveTimeout = nanoseconds; // published by the post's full fence (read by the receiver after its acquire of State)
        }
    }

    /// <summary>Where the <paramref name="words"/> words (0..63, validated) of a request live: the control line for a short one, the MR lines otherwise.</summary>
    [UnscopedRef]
    internal Span<ulong> RequestWords(int words) => words <= InlineWords ? ((Span<ulong>)RequestInline)[..words] : ((Span<ulong>)RequestMr)[..words];

    /// <summary>Where the <paramref name="words"/> words (0..63, validated) of a reply live: the control line for a short one, the MR lines otherwise.</summary>
    [UnscopedRef]
    internal Span<ulong> ReplyWords(int words) => words <= InlineWords ? ((Span<ulong>)ReplyInline)[..words] : ((Span<ulong>)ReplyMr)[..words];

    /// <summary>Raised while the sender sleeps (or is about to) on <see cref="SenderWake"/>.</summary>
    [UnscopedRef]
    internal SharedFlag SenderWaitingFlag => new(ref SenderWaiting);

    /// <summary>Raised while the receiver spins on this link's State, so the sender may skip the doorbell.</summary>
    [UnscopedRef]
    internal SharedFlag ReceiverWatchingFlag => new(ref ReceiverWatching);

    /// <summary>Raised by the death marker or Dispose when the sender is gone.</summary>
    [UnscopedRef]
    internal SharedFlag SenderDeadFlag => new(ref SenderDead);

    /// <summary>Raised by the death marker or Dispose when the receiver is gone.</summary>
    [UnscopedRef]
    internal SharedFlag ReceiverDeadFlag => new(ref ReceiverDead);
}
