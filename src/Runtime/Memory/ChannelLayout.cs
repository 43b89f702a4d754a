using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace L4Rt.Memory;

/// <summary>
/// The header of a FIFO channel region (one 4 KiB page), followed by the ring's data. Single producer,
/// single consumer. Positions grow without bound (u64); a record lives at <c>position % Capacity</c>.
/// <code>
///  offset size  field            written by                 read by
///  ------ ----  ---------------  -------------------------  -------------------------------
///       0    4  Magic 'L4CH'     creator                    both, once at attach
///       4    4  Version          creator
///       8    8  Capacity         creator (power of two)     both, once at attach (must match the region size)
///      16    4  ProducerFences   producer, once at attach   consumer, on every release: 1 when the producer issues a
///                                                            membarrier before it sleeps (see AsymmetricFence)
///      20    4  ConsumerFences   consumer, once at attach   producer, on every publish: the same for the consumer
///      24    4  ProducerCpu      producer, when it wakes    consumer, when woken: the producer's CPU + 1 (0 unknown),
///                               the consumer               a hint against sharing one CPU (see CoLocation)
///      28    4  ConsumerCpu      consumer, when it wakes    producer, when woken: the same for the consumer
///                               the producer
///  ---- 64: producer line (the producer writes it on every publish) -------------------------------
///      64    8  Tail             producer: end of the last committed record (release)     consumer (acquire)
///      72    4  DataWake         producer (+1 when ConsumerWaiting), death marker          consumer: futex word
///      76    4  ConsumerWaiting  consumer, only when about to sleep                       producer, on every publish
///      80    4  ProducerDead     death marker                                             consumer
///      88    8  ConsumerAsleepSince consumer, before raising ConsumerWaiting (Stopwatch)  producer, when it wakes it
///  ---- 128: consumer line (the consumer writes it on every release) -----------------------------
///     128    8  Head             consumer: end of the last released record (release)      producer (acquire)
///     136    4  SpaceWake        consumer (+1 when ProducerWaiting), death marker          producer: futex word
///     140    4  ProducerWaiting  producer, only when about to sleep                       consumer, on every release
///     144    4  ConsumerDead     death marker                                             producer
///     152    8  ProducerAsleepSince producer, before raising ProducerWaiting (Stopwatch)  consumer, when it wakes it
///  ---- 4096: data, Capacity bytes: records ---------------------------------------------------
/// </code>
/// Each waiter flag sits on the line of the side that reads it on every publish/release (its writer touches it
/// only when about to sleep), so a busy stream reads no cache line the other side keeps writing, beyond the positions.
/// A record is an 8-byte header (u32 length, u32 flags) and its payload padded to 8 bytes (<see cref="Align8"/>);
/// it never straddles the end: a padding record (flag <see cref="PaddingFlag"/>) fills the rest and the next
/// record starts at offset 0. The producer ends the stream with an empty record flagged <see cref="EndFlag"/>.
/// Each side keeps its own position privately and only publishes it; the other side's published position is
/// read once, bounds-checked, and a value no honest peer can produce faults the channel with <see cref="L4Status.ProtocolViolation"/>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct ChannelLayout
{
    internal const uint MagicValue = 0x4843344C; // "L4CH"
    internal const uint CurrentVersion = 3; // 2: waiter flags on the reader's line; 3: ProducerFences/ConsumerFences
    internal const int HeaderSize = 4096;
    internal const int RecordHeader = 8;

    /// <summary>Header flag of the record that fills the ring's end, so the next record starts at offset 0.</summary>
    internal const uint PaddingFlag = 1;

    /// <summary>Header flag of the empty record a producer writes when it completes the channel.</summary>
    internal const uint EndFlag = 2;

    [FieldOffset(0)]
    public uint Magic;

    [FieldOffset(4)]
    public uint Version;

    [FieldOffset(8)]
    public long Capacity;

    /// <summary>1 once the producer issues membarrier(GLOBAL_EXPEDITED) before it sleeps: the consumer may release without a full fence.</summary>
    [FieldOffset(16)]
    public int ProducerFences;

    /// <summary>1 once the consumer issues membarrier(GLOBAL_EXPEDITED) before it sleeps: the producer may publish without a full fence.</summary>
    [FieldOffset(20)]
    public int ConsumerFences;

    /// <summary>The CPU (+1; 0 unknown) the producer ran on when it last woke the consumer: a hint (<see cref="CoLocation"/>).</summary>
    [FieldOffset(24)]
    public int ProducerCpu;

    /// <summary>The CPU (+1; 0 unknown) the consumer ran on when it last woke the producer: a hint (<see cref="CoLocation"/>).</summary>
    [FieldOffset(28)]
    public int ConsumerCpu;

    [FieldOffset(64)]
    public long Tail;

    [FieldOffset(72)]
    public int DataWake;

    [FieldOffset(76)]
    public int ConsumerWaiting;

    [FieldOffset(80)]
    public int ProducerDead;

    [FieldOffset(88)]
    public long ConsumerAsleepSince;

    [FieldOffset(128)]
    public long Head;

    [FieldOffset(136)]
    public int SpaceWake;

    [FieldOffset(140)]
    public int ProducerWaiting;

    [FieldOffset(144)]
    public int ConsumerDead;

    [FieldOffset(152)]
    public long ProducerAsleepSince;

    /// <summary>A payload's size rounded up to the 8-byte record alignment (a record's ring footprint is <see cref="RecordHeader"/> + this).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Align8(long size) => (size + 7) & ~7L;
}
