using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace L4Rt.Memory;

/// <summary>
/// The link region: shared by exactly one sender thread and one receiver thread, so neither can read or
/// write any other party's messages. Version at offset 0; the control line on its own cache line;
/// each direction's words on lines written by one side only. The tags ride in the control line, which moves with
/// every post anyway: a message of up to 8 words moves two lines per direction (control + MR0..7), not three.
/// <code>
///  offset size  field             written by                     read by
///  ------ ----  ----------------  -----------------------------  ------------------------------
///       0    4  Magic 'L4LK'      creator (broker / setup)       both, once at attach
///       4    4  Version           creator                        both, once at attach
///       8    4  HintIndex         creator                        sender: its bit in the doorbell
///      12   52  (reserved)
///  ---- 64: control line (the only line both sides write) -------------------------------------
///      64    4  State             both, by CAS: seq&lt;&lt;4 | code  both
///      68    4  SenderWaiting     sender (1 while asleep)        receiver: wake needed?
///      72    4  SenderWake        receiver, death marker         sender: its futex word
///      76    4  ReceiverWatching  receiver (1 while it spins     sender: doorbell may be skipped
///                                 on this link's State)
///      80    4  SenderDead        death marker                   receiver
///      84    4  ReceiverDead      death marker                   sender
///      88    8  CallReceiveTimeout sender, before posting a call  receiver, as it takes the call
///                                 (its receive timeout in ns:
///                                 0 zero, &lt; 0 never)
///      96   16  (reserved)
///     112    8  RequestTag        sender, before posting         receiver: read once, validated
///     120    8  ReplyTag          receiver, before replying      sender: read once, validated
///  ---- 128: Request MR0..62, 504 B, written by the sender only --------------------------------
///  ---- 640: Reply MR0..62,   504 B, written by the receiver only ------------------------------
///    1152       end (the region is one 4 KiB page)
/// </code>
/// The label of the link is deliberately absent: it lives in the receiver's private memory.
/// An IRQ object uses the same layout: State counts pending triggers (added by triggerers, taken to 0 by
/// the receiver); the slots are unused. Whether an entry is a link or an IRQ is the receiver's private knowledge.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 1152)]
internal struct LinkLayout
{
    internal const uint MagicValue = 0x4B4C344C; // "L4LK" little-endian
    internal const uint CurrentVersion = 4; // 2: no Receiving/Replying states; 3: CallReceiveTimeout; 4: tags in the control line
    internal const int RegionSize = 4096;

    [FieldOffset(0)]
    public uint Magic;

    [FieldOffset(4)]
    public uint Version;

    [FieldOffset(8)]
    public int HintIndex;

    [FieldOffset(64)]
    public int State;

    [FieldOffset(68)]
    public int SenderWaiting;

    [FieldOffset(72)]
    public int SenderWake;

    [FieldOffset(76)]
    public int ReceiverWatching;

    [FieldOffset(80)]
    public int SenderDead;

    [FieldOffset(84)]
    public int ReceiverDead;

    /// <summary>The caller's receive timeout (ns; 0 zero, &lt; 0 never), written before a call is posted: a server that forwards the call bounds its own wait by it.</summary>
    [FieldOffset(88)]
    public long CallReceiveTimeout;

    /// <summary>The request's raw tag (the sender's word: validated by the receiver, read once).</summary>
    [FieldOffset(112)]
    public ulong RequestTag;

    /// <summary>The reply's raw tag, or a refusal status (the receiver's word: validated by the sender, read once).</summary>
    [FieldOffset(120)]
    public ulong ReplyTag;

    [FieldOffset(128)]
    public MessageWords RequestMr;

    [FieldOffset(640)]
    public MessageWords ReplyMr;

    /// <summary>seq&lt;&lt;4 | code, moved on by CAS (a count of triggers for an IRQ).</summary>
    [UnscopedRef]
    internal SharedWord StateWord => new(ref State);

    /// <summary>The sender's futex word, bumped by whoever wakes it.</summary>
    [UnscopedRef]
    internal SharedWord SenderWakeWord => new(ref SenderWake);

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
