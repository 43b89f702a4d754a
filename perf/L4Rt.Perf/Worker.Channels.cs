using System.Globalization;
using System.Runtime.InteropServices;
using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Perf;

/// <summary>FIFO producer worker: the harness consumes and times; this side produces like the C reference does.</summary>
internal static partial class Worker
{
    /// <summary>
    /// Produces <paramref name="count"/> records of <paramref name="record"/> bytes: "zc" writes every 8-byte word
    /// in place, "copy" copies a prepared record in, "pipe" writes through the PipeWriter adapter. Then completes
    /// and prints the futex wake calls it issued.
    /// </summary>
    /// <summary>Consumes records from <paramref name="inPath"/> (idle in Read between them) and answers each on <paramref name="outPath"/> with the monotonic time it was read.</summary>
    private static int FifoStamp(string inPath, string outPath)
    {
        using ChannelConsumer consumer = DirectChannel.ConnectConsumer(inPath, TimeSpan.FromSeconds(60));
        using ChannelProducer producer = DirectChannel.ConnectProducer(outPath, TimeSpan.FromSeconds(60));
        Console.WriteLine("READY");
        Console.Out.Flush();
        Span<byte> stamp = stackalloc byte[8];
        while (consumer.Read(L4Timeout.Never, out _) == L4Status.Ok)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(stamp, System.Diagnostics.Stopwatch.GetTimestamp());
            consumer.Release();
            if (producer.Write(stamp, L4Timeout.Never) != L4Status.Ok)
            {
                return 1;
            }
        }

        return 0;
    }

    private static int FifoProduce(string path, int record, long count, string mode)
    {
        using ChannelProducer producer = DirectChannel.ConnectProducer(path, TimeSpan.FromSeconds(60));
        Console.WriteLine("READY");
        Console.Out.Flush();
        byte[] prepared = new byte[Math.Max(record, WarmupRecordLength(record))];
        (long Wakes, long Moves) warmup = (0, 0); // the pipe mode has no warm-up
        if (mode == "pipe")
        {
            System.IO.Pipelines.PipeWriter writer = producer.AsPipeWriter(record);
            for (long i = 0; i < count; i++)
            {
                Memory<byte> memory = writer.GetMemory(record);
                prepared.AsSpan(0, record).CopyTo(memory.Span);
                writer.Advance(record);
                if ((i & 15) == 15)
                {
                    writer.FlushAsync().AsTask().GetAwaiter().GetResult();
                }
            }

            writer.Complete();
        }
        else
        {
            warmup = ProduceRecords(producer, record, count, mode == "zc", prepared);
            producer.Complete(L4Timeout.Never);
        }

        Console.WriteLine($"WAKES {(producer.WakeupsIssued - warmup.Wakes).ToString(CultureInfo.InvariantCulture)} {(producer.Relocations - warmup.Moves).ToString(CultureInfo.InvariantCulture)}");
        return 0;
    }

    /// <summary>
    /// The producer's loop, compiled optimised from its first record as the C reference's is compiled ahead of time
    /// (a loop in a method called once otherwise runs as tier-0, then on-stack-replacement code).
    /// <para>
    /// First a warm-up the consumer does not time: records 8 bytes shorter (<see cref="WarmupRecordLength"/>, so it
    /// tells them apart), for at least the C ring's warm-up count and at least <see cref="Warmup.MinDuration"/>, so both
    /// processes stream with the JIT's steady-state code and its background compiler done; then the
    /// <paramref name="count"/> timed records.
    /// </para>
    /// </summary>
    /// <returns>The wakes and CPU moves the warm-up took (the timed part's are reported alone).</returns>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static (long Wakes, long Moves) ProduceRecords(ChannelProducer producer, int record, long count, bool zeroCopy, byte[] prepared)
    {
        int warmLength = WarmupRecordLength(record);
        Warmup warm = new(FifoWarmupCount(record, producer.Capacity));
        for (int i = 0; warm.Continues(i); i++)
        {
            ProduceOne(producer, warmLength, i, zeroCopy, prepared);
        }

        (long Wakes, long Moves) warmedUp = (producer.WakeupsIssued, producer.Relocations);
        for (long i = 0; i < count; i++)
        {
            ProduceOne(producer, record, i, zeroCopy, prepared);
        }

        return warmedUp;
    }

    /// <summary>The length of a warm-up record for a round of <paramref name="record"/>-byte records (8 bytes shorter, or longer for the smallest).</summary>
    internal static int WarmupRecordLength(int record) => record >= 16 ? record - 8 : record + 8;

    /// <summary>The C ring's warm-up count (l4rt_cref.c): two passes over the ring, and at least 20,000 records or 64 MiB, whichever is less.</summary>
    internal static int FifoWarmupCount(int record, long ring) => (int)Math.Max(2 * (ring / (8 + record)), Math.Min((64L << 20) / record, 20_000));

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void ProduceOne(ChannelProducer producer, int record, long i, bool zeroCopy, byte[] prepared)
    {
        if (!zeroCopy)
        {
            producer.Write(prepared.AsSpan(0, record), L4Timeout.Never); // the copying API
            return;
        }

        // Zero-copy: every 8-byte word written in place (vectorized, as gcc -O2 does for the C reference).
        producer.Reserve(record, L4Timeout.Never, out Span<byte> span);
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(span);
        System.Numerics.Vector<ulong> value = new((ulong)i);
        int w = 0;
        for (; w <= words.Length - System.Numerics.Vector<ulong>.Count; w += System.Numerics.Vector<ulong>.Count)
        {
            value.CopyTo(words[w..]);
        }

        for (; w < words.Length; w++)
        {
            words[w] = (ulong)i ^ (ulong)w;
        }

        producer.Commit(record);
    }
}
