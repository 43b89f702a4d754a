using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Perf.Scenarios;

/// <summary>
/// FIFO channel throughput between two processes, timed at the consumer from its first timed record to the end. The
/// producer warms up first with shorter records, as long as the C ring's warm-up and at least 600 ms (the JIT settles
/// in both processes); the "pipe" mode, a byte stream, has no warm-up and is timed from its first byte.
/// </summary>
internal static class FifoThroughput
{
    internal readonly record struct Result(double MsgsPerSecond, double Gbps, double WakesPerMillion, long ConsumerAllocatedBytes, long Relocations);

    /// <summary>
    /// Every 8-byte word read in place (vectorized sum, as gcc -O2 does for the C reference). The workload loops here
    /// and in the producer worker are compiled optimised from their first record, as the C reference is compiled
    /// ahead of time: in a fresh round they would otherwise run as tier-0 and on-stack-replacement code for a good
    /// part of the round, and measure the JIT rather than the channel (64 KiB zero-copy: 3.5-4.9 GB/s that way,
    /// 5.2-5.7 GB/s with tiering off, against C's 6.2-6.5).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong SumWords(ReadOnlySpan<byte> span)
    {
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(span);
        System.Numerics.Vector<ulong> acc = default;
        ulong sum = 0;
        int w = 0;
        for (; w <= words.Length - System.Numerics.Vector<ulong>.Count; w += System.Numerics.Vector<ulong>.Count)
        {
            acc += new System.Numerics.Vector<ulong>(words[w..]);
        }

        for (; w < words.Length; w++)
        {
            sum += words[w];
        }

        return sum + System.Numerics.Vector.Sum(acc);
    }

    /// <summary>What a consumer counted.</summary>
    private sealed class Totals
    {
        internal int Record; // the timed records' length (the producer's warm-up records differ)
        internal long Start;
        internal long WarmupWakes; // the consumer's wakes and CPU moves before the first timed record
        internal long WarmupMoves;
        internal long Bytes;
        internal long Records;
        internal ulong Sink;
        internal long AllocatedBefore = -1; // taken after the first 10% of records (first sleeps allocate per-thread runtime state once)

        /// <summary>At the first timed record: starts the clock and notes the consumer's wakes and CPU moves of the warm-up.</summary>
        internal long BeginTimed(ChannelConsumer consumer)
        {
            (WarmupWakes, WarmupMoves) = (consumer.WakeupsIssued, consumer.Relocations);
            return Start = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>The "async" mode: reads in place while records are there, awaits <c>WaitForDataAsync</c> (no thread held) when the ring is empty.</summary>
    private static async Task<Totals> ConsumeAsync(ChannelConsumer consumer, int record)
    {
        Totals totals = new() { Record = record };
        while (true)
        {
            L4Status status = Drain(consumer, totals);
            if (status == L4Status.ReceiveTimeout)
            {
                await consumer.WaitForDataAsync(L4Timeout.FromMilliseconds(30_000)).ConfigureAwait(false);
                continue;
            }

            if (status == L4Status.DestinationDeleted && consumer.IsCompleted)
            {
                return totals;
            }

            throw new InvalidOperationException($"fifo read failed: {status}");
        }
    }

    /// <summary>Takes every record there is (each word read in place), releasing as it goes; the status that stopped it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static L4Status Drain(ChannelConsumer consumer, Totals totals)
    {
        while (true)
        {
            L4Status status = consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> span);
            if (status != L4Status.Ok)
            {
                return status;
            }

            totals.Sink += SumWords(span);
            if (span.Length == totals.Record) // a warm-up record is shorter: read the same way, not timed
            {
                if (totals.Start == 0)
                {
                    totals.BeginTimed(consumer);
                }

                totals.Bytes += span.Length;
                totals.Records++;
            }

            consumer.Release();
        }
    }

    internal static Result Round(int record, long ring, long count, string mode)
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-fifo-{Guid.NewGuid():N}.sock");
        using DirectChannelListener listener = DirectChannelListener.Listen(path);
        Task<ChannelConsumer> accepting = Task.Run(() => listener.AcceptAsConsumer(ring, TimeSpan.FromSeconds(60)));
        using WorkerProcess producer = WorkerProcess.Start("fifo-produce", path, record.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture), mode == "async" ? "zc" : mode);
        using ChannelConsumer consumer = accepting.GetAwaiter().GetResult();
        long start = 0, bytes = 0, records = 0;
        ulong sink = 0;
        long allocatedBefore = -1; // taken after the first 10% of records (first sleeps allocate per-thread runtime state once)
        Totals totals = new() { Record = record };
        if (mode == "async")
        {
            totals = Task.Run(() => ConsumeAsync(consumer, record)).GetAwaiter().GetResult();
            (start, bytes, records, sink) = (totals.Start, totals.Bytes, totals.Records, totals.Sink);
        }
        else if (mode == "pipe")
        {
            System.IO.Pipelines.PipeReader reader = consumer.AsPipeReader();
            while (true)
            {
                System.IO.Pipelines.ReadResult result = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
                if (start == 0 && !result.Buffer.IsEmpty)
                {
                    start = Stopwatch.GetTimestamp();
                }

                bytes += result.Buffer.Length;
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            records = bytes / record;
        }
        else
        {
            ConsumeInPlaceOrCopying(consumer, record, ring, count, mode == "zc", totals);
            (start, bytes, records, sink, allocatedBefore) = (totals.Start, totals.Bytes, totals.Records, totals.Sink, totals.AllocatedBefore);
        }

        double seconds = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        long allocated = allocatedBefore < 0 ? -1 : GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        string[] report = producer.ReadLine()!.Split(' '); // WAKES <futex wakes> <relocations>
        long producerWakes = long.Parse(report[1], CultureInfo.InvariantCulture);
        long relocations = long.Parse(report[2], CultureInfo.InvariantCulture) + consumer.Relocations - totals.WarmupMoves;
        GC.KeepAlive(sink);
        double wakes = (producerWakes + consumer.WakeupsIssued - totals.WarmupWakes) * 1e6 / Math.Max(1, records); // the timed part's
        return new Result(records / seconds, bytes / seconds / 1e9, wakes, mode == "pipe" ? -1 : allocated, relocations);
    }

    /// <summary>The zero-copy consumer (every record read in place, released in small batches) or the copying one (<c>Read(destination, …)</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ConsumeInPlaceOrCopying(ChannelConsumer consumer, int record, long ring, long count, bool zeroCopy, Totals totals)
    {
        byte[] copy = new byte[Math.Max(record, Worker.WarmupRecordLength(record))];
        long start = 0, bytes = 0, records = 0;
        ulong sink = 0;
        long unreleased = 0;
        while (true)
        {
            // Zero-copy: read in place, every word summed; copying: the copying API, which releases each record itself.
            int length = 0;
            ReadOnlySpan<byte> span = default;
            L4Status status = zeroCopy ? consumer.Read(L4Timeout.FromMilliseconds(30_000), out span) : consumer.Read(copy, L4Timeout.FromMilliseconds(30_000), out length);
            if (status != L4Status.Ok)
            {
                if (status == L4Status.DestinationDeleted && consumer.IsCompleted)
                {
                    break;
                }

                throw new InvalidOperationException($"fifo read failed: {status}");
            }

            // The producer's warm-up records are shorter: consumed the same way, but the clock starts at the first timed one.
            bool timed = (zeroCopy ? span.Length : length) == record;
            if (timed)
            {
                if (start == 0)
                {
                    start = totals.BeginTimed(consumer);
                }

                records++;
                if (records == count / 10)
                {
                    totals.AllocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                }
            }

            if (!zeroCopy)
            {
                sink += copy[0];
                bytes += timed ? length : 0;
                continue;
            }

            sink += SumWords(span);
            bytes += timed ? span.Length : 0;

            // Release in small batches, as a streaming consumer does: every 8 records, or as soon as 1/16 of the
            // ring is held (8 records of 64 KiB would hold half of a 1 MiB ring back from the producer).
            unreleased += span.Length;
            if ((records & 7) == 0 || unreleased >= ring / 16)
            {
                consumer.Release();
                unreleased = 0;
            }
        }

        consumer.Release();
        (totals.Start, totals.Bytes, totals.Records, totals.Sink) = (start, bytes, records, sink);
    }
}
