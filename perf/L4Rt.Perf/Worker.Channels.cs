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
        byte[] prepared = new byte[record];
        if (mode == "pipe")
        {
            System.IO.Pipelines.PipeWriter writer = producer.AsPipeWriter(record);
            for (long i = 0; i < count; i++)
            {
                Memory<byte> memory = writer.GetMemory(record);
                prepared.CopyTo(memory);
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
            ProduceRecords(producer, record, count, mode == "zc", prepared);
            producer.Complete(L4Timeout.Never);
        }

        Console.WriteLine($"WAKES {producer.WakeupsIssued.ToString(CultureInfo.InvariantCulture)}");
        return 0;
    }

    /// <summary>
    /// The producer's loop, compiled optimised from its first record as the C reference's is compiled ahead of time
    /// (a loop in a method called once otherwise runs as tier-0, then on-stack-replacement code).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void ProduceRecords(ChannelProducer producer, int record, long count, bool zeroCopy, byte[] prepared)
    {
        for (long i = 0; i < count; i++)
        {
            if (!zeroCopy)
            {
                producer.Write(prepared, L4Timeout.Never); // the copying API
                continue;
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
}
