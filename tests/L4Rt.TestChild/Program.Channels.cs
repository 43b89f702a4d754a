using System.Globalization;
using L4Rt.Channels;
using L4Rt.Memory;

namespace L4Rt.TestChild;

internal static partial class Program
{
    private static readonly TimeSpan s_channelTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Modes of the FIFO channel tests; null when <paramref name="args"/> names none of them.</summary>
    private static int? RunChannelMode(string[] args) => args[0] switch
    {
        "chan-produce" => ChanProduce(args[1], long.Parse(args[2], CultureInfo.InvariantCulture), Int(args[3]), Int(args[4])),
        "chan-produce-then-hang" => ChanProduceThenHang(args[1], Int(args[2])),
        "chan-consume-none" => ChanConsumeNone(args[1]),
        "chan-hostile" => ChanHostile(args[1], Int(args[2]), Int(args[3])),
        "chan-stream-write" => ChanStreamWrite(args[1], long.Parse(args[2], CultureInfo.InvariantCulture), args[3]),
        "chan-seq-consume" => ChanSeqConsume(args[1], Int(args[2]), long.Parse(args[3], CultureInfo.InvariantCulture)),
        _ => null,
    };

    /// <summary>Streams <paramref name="totalBytes"/> in records of random size 1..<paramref name="maxRecord"/>; prints the checksum.</summary>
    private static int ChanProduce(string path, long totalBytes, int seed, int maxRecord)
    {
        using ChannelProducer producer = DirectChannel.ConnectProducer(path, s_channelTimeout);
        Random random = new(seed);
        ulong checksum = 0;
        long sent = 0, records = 0;
        while (sent < totalBytes)
        {
            int size = (int)Math.Min(random.Next(1, maxRecord + 1), totalBytes - sent);
            if (producer.Reserve(size, Ipc.L4Timeout.Never, out Span<byte> record) != L4Status.Ok)
            {
                Say("FAILED reserve");
                return 1;
            }

            checksum = Content.Mix(checksum, Content.FillRecord(record, records));
            producer.Commit(size);
            sent += size;
            records++;
        }

        producer.Complete(Ipc.L4Timeout.Never);
        Say($"DONE {checksum} {records}");
        return 0;
    }

    /// <summary>
    /// Consumes <paramref name="count"/> records that must carry 0, 1, 2, … in order, with the given spin budget (0: every
    /// empty ring is a sleep), each read bounded (a lost wake-up fails, it does not hang); prints its fence mode first
    /// and its stalls at the end.
    /// </summary>
    private static int ChanSeqConsume(string path, int spinNs, long count)
    {
        using ChannelConsumer consumer = DirectChannel.ConnectConsumer(path, s_channelTimeout);
        consumer.SpinNanoseconds = spinNs;
        Say($"FENCES {AsymmetricFence.Available} peer {Volatile.Read(ref consumer.Region.Layout.ProducerFences)}");
        for (long i = 0; i < count; i++)
        {
            L4Status status = consumer.Read(Ipc.L4Timeout.FromMilliseconds(10_000), out ReadOnlySpan<byte> record);
            if (status != L4Status.Ok || BitConverter.ToInt64(record) != i)
            {
                Say($"ERROR record {i}: {status}{(status == L4Status.Ok ? $" carried {BitConverter.ToInt64(record)}" : "")}");
                return 1;
            }

            consumer.Release();
        }

        Say($"DONE {count} stalls {consumer.Stalls} wakes {consumer.WakeupsIssued}");
        return 0;
    }

    private static int ChanProduceThenHang(string path, int records)
    {
        ChannelProducer producer = DirectChannel.ConnectProducer(path, s_channelTimeout);
        for (int i = 0; i < records; i++)
        {
            producer.Write(BitConverter.GetBytes(i), Ipc.L4Timeout.Never);
        }

        Say($"PRODUCED {records}");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    private static int ChanConsumeNone(string path)
    {
        ChannelConsumer consumer = DirectChannel.ConnectConsumer(path, s_channelTimeout);
        Say("ATTACHED");
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(consumer);
        return 0;
    }

    /// <summary>
    /// For each of <paramref name="rounds"/> fresh channels: commits a few valid records, then scribbles random
    /// values over the shared header (tail, head, flags) and the ring (record headers and data), publishes, and leaves.
    /// </summary>
    private static int ChanHostile(string path, int rounds, int seed)
    {
        Random random = new(seed);
        for (int round = 0; round < rounds; round++)
        {
            ChannelProducer producer = DirectChannel.ConnectProducer(path, s_channelTimeout);
            for (int i = random.Next(0, 4); i > 0; i--)
            {
                producer.Write(new byte[random.Next(1, 200)], Ipc.L4Timeout.Zero);
            }

            ChannelRegion region = producer.Region;
            ref ChannelLayout l = ref region.Layout;
            int writes = random.Next(1, 6);
            for (int w = 0; w < writes; w++)
            {
                switch (random.Next(6))
                {
                    case 0: Volatile.Write(ref l.Tail, random.NextInt64(-100, region.Capacity * 3)); break;
                    case 1: Volatile.Write(ref l.Tail, (Volatile.Read(ref l.Tail) + (random.Next(1, 64) * 8)) & ~7L); break;
                    case 2: region.Slice(0, 8).Fill((byte)random.Next(256)); break;
                    case 3: region.HeaderAt(random.Next((int)(region.Capacity / 8)) * 8L) = (ulong)random.NextInt64(); break;
                    case 4: region.HeaderAt(0) = ((ulong)random.Next(0, 4) << 32) | (uint)random.Next(); break;
                    default: random.NextBytes(region.Slice(0, (int)Math.Min(region.Capacity, 512))); break;
                }
            }

            Volatile.Write(ref l.Tail, random.Next(3) == 0 ? random.NextInt64() : Math.Max(0, Volatile.Read(ref l.Tail)));
            Interlocked.Increment(ref l.DataWake);
            Futexes.Wake(ref l.DataWake);
            producer.Dispose();
        }

        Say($"DONE {rounds}");
        return 0;
    }

    /// <summary>Writes <paramref name="totalBytes"/> of deterministic content through a Stream or PipeWriter adapter with CopyToAsync.</summary>
    private static int ChanStreamWrite(string path, long totalBytes, string adapter)
    {
        using ChannelProducer producer = DirectChannel.ConnectProducer(path, s_channelTimeout);
        byte[] data = new byte[totalBytes];
        ulong state = 7, checksum = Content.Fill(data, ref state, 0);
        using MemoryStream source = new(data);
        if (adapter == "pipe")
        {
            // The PipeWriter way: GetMemory, fill, Advance, FlushAsync.
            System.IO.Pipelines.PipeWriter writer = producer.AsPipeWriter();
            while (true)
            {
                Memory<byte> memory = writer.GetMemory(8192);
                int n = source.Read(memory.Span);
                if (n == 0)
                {
                    break;
                }

                writer.Advance(n);
                writer.FlushAsync().AsTask().GetAwaiter().GetResult();
            }

            writer.Complete();
        }
        else
        {
            using Stream stream = producer.AsStream();
            source.CopyToAsync(stream).GetAwaiter().GetResult();
        }

        Say($"DONE {checksum}");
        return 0;
    }
}
