using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.TestChild;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Channels;

/// <summary>FIFO channels between real processes.</summary>
[Collection(ProcessCollection.Name)]
public class ChannelProcessTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void Stream1GiBThrough1MiBRing_RandomRecordSizes_ChecksumsMatch()
    {
        const long Total = 1L << 30;
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess producer = ChildProcess.Start("chan-produce", dir.Socket(), Total.ToString(CultureInfo.InvariantCulture), "1234", "65536");
        using ChannelConsumer consumer = listener.AcceptAsConsumer(1 << 20, TimeSpan.FromSeconds(30));
        ulong checksum = 0;
        long bytes = 0, records = 0;
        while (true)
        {
            L4Status status = consumer.Read(L4Timeout.FromMilliseconds(30_000), out ReadOnlySpan<byte> record);
            if (status == L4Status.DestinationDeleted && consumer.IsCompleted)
            {
                break;
            }

            Assert.Equal(L4Status.Ok, status);
            checksum = Content.Mix(checksum, Content.Digest(record));
            bytes += record.Length;
            records++;
            if ((records & 15) == 0)
            {
                consumer.Release(); // release in batches: "read many, release up to"
            }
        }

        consumer.Release();
        string[] done = producer.WaitForLine("DONE").Split(' ');
        Assert.Equal(Total, bytes);
        Assert.Equal(long.Parse(done[2], CultureInfo.InvariantCulture), records);
        Assert.Equal(done[1], checksum.ToString(CultureInfo.InvariantCulture));
        Assert.True(consumer.Stalls > 0 || consumer.WakeupsIssued >= 0);
    }

    [Fact]
    public async Task ReadAllAsync_RecordsInPlaceAsAnAsyncStream_ChecksumsMatch()
    {
        const long Total = 32L << 20;
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess producer = ChildProcess.Start("chan-produce", dir.Socket(), Total.ToString(CultureInfo.InvariantCulture), "77", "4096");
        using ChannelConsumer consumer = listener.AcceptAsConsumer(1 << 16, TimeSpan.FromSeconds(30));
        ulong checksum = 0;
        long records = 0, bytes = 0;
        await foreach (ReadOnlyMemory<byte> record in consumer.ReadAllAsync())
        {
            checksum = Content.Mix(checksum, Content.Digest(record.Span));
            bytes += record.Length;
            records++;
        }

        string[] done = producer.WaitForLine("DONE").Split(' ');
        Assert.Equal(Total, bytes);
        Assert.Equal(long.Parse(done[2], CultureInfo.InvariantCulture), records);
        Assert.Equal(done[1], checksum.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void ProducerKilled_ConsumerReadsEverythingCommitted_ThenDestinationDeletedWithin100ms()
    {
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess producer = ChildProcess.Start("chan-produce-then-hang", dir.Socket(), "500");
        using ChannelConsumer consumer = listener.AcceptAsConsumer(1 << 16, TimeSpan.FromSeconds(30));
        producer.WaitForLine("PRODUCED");
        for (int i = 0; i < 500; i++)
        {
            Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(5000), out ReadOnlySpan<byte> record));
            Assert.Equal(i, BitConverter.ToInt32(record));
            consumer.Release();
        }

        L4Status last = L4Status.Ok;
        long returnedAt = 0;
        Thread reader = new(() =>
        {
            last = consumer.Read(L4Timeout.Never, out _);
            returnedAt = Stopwatch.GetTimestamp();
        });
        reader.Start();
        Thread.Sleep(100);
        long killedAt = producer.Kill();
        Assert.True(reader.Join(5000));
        Assert.Equal(L4Status.DestinationDeleted, last);
        Assert.False(consumer.IsCompleted); // died, did not complete
        Assert.True(Stopwatch.GetElapsedTime(killedAt, returnedAt) < s_limit, $"{Stopwatch.GetElapsedTime(killedAt, returnedAt).TotalMilliseconds:0.0} ms");
    }

    [Fact]
    public async Task PipeReader_ProducerKilledWhileTheReadWaits_ReadsWhatWasCommitted_ThenThrowsIOException()
    {
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess producer = ChildProcess.Start("chan-produce-then-hang", dir.Socket(), "500");
        using ChannelConsumer consumer = listener.AcceptAsConsumer(1 << 16, TimeSpan.FromSeconds(30));
        producer.WaitForLine("PRODUCED");
        PipeReader reader = consumer.AsPipeReader();
        using CancellationTokenSource bound = new(TimeSpan.FromSeconds(30));
        long received = 0;
        while (received < 500 * sizeof(int))
        {
            ReadResult result = await reader.ReadAsync(bound.Token);
            received += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
        }

        ValueTask<ReadResult> waiting = reader.ReadAsync(bound.Token);
        Assert.False(waiting.IsCompleted); // everything committed was read: it waits for more
        producer.Kill();
        await Assert.ThrowsAsync<IOException>(async () => await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(500 * sizeof(int), received);
    }

    [Fact]
    public void ConsumerKilled_ProducerBlockedOnFullRing_FailsWithin100ms()
    {
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess consumerProcess = ChildProcess.Start("chan-consume-none", dir.Socket());
        using ChannelProducer producer = listener.AcceptAsProducer(1 << 14, TimeSpan.FromSeconds(30));
        consumerProcess.WaitForLine("ATTACHED");
        byte[] record = new byte[1000];
        while (producer.Write(record, L4Timeout.Zero) == L4Status.Ok)
        {
        }

        L4Status status = L4Status.Ok;
        long returnedAt = 0;
        Thread writer = new(() =>
        {
            status = producer.Write(record, L4Timeout.Never);
            returnedAt = Stopwatch.GetTimestamp();
        });
        writer.Start();
        Thread.Sleep(100);
        long killedAt = consumerProcess.Kill();
        Assert.True(writer.Join(5000));
        Assert.Equal(L4Status.DestinationDeleted, status);
        Assert.True(Stopwatch.GetElapsedTime(killedAt, returnedAt) < s_limit, $"{Stopwatch.GetElapsedTime(killedAt, returnedAt).TotalMilliseconds:0.0} ms");
    }

    [Fact]
    public void HostileProducer_ThousandRandomCorruptions_ConsumerFaultsCleanlyNeverReadsOutOfBounds()
    {
        const int Rounds = 1000;
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess hostile = ChildProcess.Start("chan-hostile", dir.Socket(), Rounds.ToString(CultureInfo.InvariantCulture), "99");
        int faults = 0, ends = 0, records = 0;
        for (int round = 0; round < Rounds; round++)
        {
            using ChannelConsumer consumer = listener.AcceptAsConsumer(1 << 12, TimeSpan.FromSeconds(30));
            for (int steps = 0; steps < 10_000; steps++)
            {
                L4Status status = consumer.Read(L4Timeout.FromMilliseconds(2000), out ReadOnlySpan<byte> record);
                if (status == L4Status.Ok)
                {
                    Assert.InRange(record.Length, 0, (int)consumer.Capacity - 8);
                    records++;
                    consumer.Release();
                    continue;
                }

                if (status == L4Status.ProtocolViolation)
                {
                    Assert.True(consumer.IsFaulted);
                    faults++;
                }
                else
                {
                    Assert.Equal(L4Status.DestinationDeleted, status); // the hostile side left after scribbling
                    ends++;
                }

                break;
            }
        }

        Assert.Equal($"DONE {Rounds}", hostile.WaitForLine("DONE"));
        Assert.Equal(Rounds, faults + ends);
        Assert.True(faults > Rounds / 4, $"only {faults} of {Rounds} corruptions were detected as faults ({ends} ended cleanly, {records} records read)");
        ReliabilityLog.Record("shared memory", "hostile FIFO producer corrupting head, tail, record headers and waiter words of a fresh ring each round",
            Rounds, $"{faults} detected as a fault (ProtocolViolation), {ends} ended cleanly, {records} records read, none out of bounds; the consumer process never crashed");
    }

    [Theory]
    [InlineData("stream")]
    [InlineData("pipe")]
    public async Task Adapters_RoundTripWithCopyToAsync_ChecksumsMatch(string adapter)
    {
        const long Total = 8L << 20;
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess writer = ChildProcess.Start("chan-stream-write", dir.Socket(), Total.ToString(CultureInfo.InvariantCulture), adapter);
        using ChannelConsumer consumer = listener.AcceptAsConsumer(1 << 16, TimeSpan.FromSeconds(30));
        using MemoryStream received = new();
        using CancellationTokenSource watchdog = new(TimeSpan.FromSeconds(60)); // a stall fails with a picture, never hangs the run
        try
        {
            if (adapter == "pipe")
            {
                PipeReader reader = consumer.AsPipeReader();
                await reader.CopyToAsync(received, watchdog.Token);
                await reader.CompleteAsync();
            }
            else
            {
                await using Stream stream = consumer.AsStream();
                await stream.CopyToAsync(received, watchdog.Token);
            }
        }
        catch (OperationCanceledException) when (watchdog.IsCancellationRequested)
        {
            Assert.Fail($"the stream stalled after {received.Length} of {Total} bytes: {consumer}; child {writer.Pid} " +
                $"{(writer.HasExited ? "exited" : "still runs")}, it printed:\n{writer.Output}");
        }

        string expected = writer.WaitForLine("DONE").Split(' ')[1];
        Assert.Equal(Total, received.Length);
        Assert.Equal(expected, Content.Checksum(received.ToArray(), 0).ToString(CultureInfo.InvariantCulture));
    }
}
