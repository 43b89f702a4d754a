using System.Buffers;
using System.IO.Pipelines;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Channels;

/// <summary>The PipeWriter and PipeReader adapters: in place over the ring, with Pipelines' contract.</summary>
[Collection(ProcessCollection.Name)]
public class ChannelPipeTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10); // every wait in these tests ends by then

    private static void Write(ChannelProducer producer, int length, byte value)
    {
        Assert.Equal(L4Status.Ok, producer.Reserve(length, L4Timeout.Zero, out Span<byte> record));
        record.Fill(value);
        producer.Commit(length);
    }

    /// <summary>Advances the writer by records of <paramref name="size"/> bytes until a flush has to wait for room.</summary>
    private static ValueTask<FlushResult> FillUntilAFlushWaits(PipeWriter writer, int size, CancellationToken cancellationToken)
    {
        for (int i = 0; i < 1000; i++)
        {
            writer.GetSpan(size)[..size].Fill((byte)i);
            writer.Advance(size);
            ValueTask<FlushResult> flush = writer.FlushAsync(cancellationToken);
            if (!flush.IsCompleted)
            {
                return flush;
            }

            Assert.False(flush.Result.IsCompleted);
        }

        throw new InvalidOperationException("the ring never filled");
    }

    [Fact]
    public void PipeWriter_GetSpanAndGetMemory_HandOutMemoryInsideTheRing()
    {
        using ChannelPair p = new();
        PipeWriter writer = p.Producer.AsPipeWriter();
        Span<byte> span = writer.GetSpan(100);
        Assert.InRange(span.Length, 100, p.Producer.MaxRecordSize);
        Assert.True(ChannelPair.InRing(p.Producer, span), "GetSpan's memory is a copy, not the ring");
        span[..100].Fill(5);
        writer.Advance(100);
        Memory<byte> memory = writer.GetMemory();
        Assert.True(ChannelPair.InRing(p.Producer, memory.Span), "GetMemory's memory is a copy, not the ring");
        memory.Span[..3].Fill(6);
        writer.Advance(3);
        Assert.Equal(L4Status.ReceiveTimeout, p.Consumer.Read(L4Timeout.Zero, out _)); // advanced, not flushed: not visible yet

        Assert.True(writer.FlushAsync().IsCompletedSuccessfully);
        Assert.Equal(L4Status.Ok, p.Consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> first));
        Assert.True(first.Length == 100 && first.IndexOfAnyExcept((byte)5) < 0);
        Assert.Equal(L4Status.Ok, p.Consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> second));
        Assert.True(second.SequenceEqual(new byte[] { 6, 6, 6 }));
    }

    [Fact]
    public void PipeWriter_Misuse_ThrowsWithAName()
    {
        using ChannelPair p = new();
        PipeWriter writer = p.Producer.AsPipeWriter();
        ArgumentOutOfRangeException tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => { writer.GetSpan(p.Producer.MaxRecordSize + 1); });
        Assert.Contains($"at most {p.Producer.MaxRecordSize}", tooLarge.Message, StringComparison.Ordinal);
        Assert.Equal(p.Producer.MaxRecordSize, writer.GetMemory(p.Producer.MaxRecordSize).Length); // the largest record is fine

        int length = writer.GetSpan(10).Length;
        Assert.Throws<InvalidOperationException>(() => writer.Advance(length + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(-1));
        writer.Advance(10);
        Assert.Throws<InvalidOperationException>(() => writer.Advance(1)); // the record was committed: GetSpan again first

        writer.Complete();
        Assert.Throws<InvalidOperationException>(() => { writer.GetSpan(); });
        writer.Complete(); // idempotent
    }

    [Fact]
    public async Task PipeReader_SeveralRecords_OneSequenceOfRecordsInPlace()
    {
        using ChannelPair p = new();
        Write(p.Producer, 10, 1);
        Write(p.Producer, 0, 9); // an empty record carries nothing for a pipe
        Write(p.Producer, 20, 2);
        Write(p.Producer, 30, 3);
        PipeReader reader = p.Consumer.AsPipeReader();
        ValueTask<ReadResult> read = reader.ReadAsync();
        Assert.True(read.IsCompletedSuccessfully);
        ReadOnlySequence<byte> buffer = (await read).Buffer;
        Assert.Equal(60, buffer.Length);
        Assert.False(buffer.IsSingleSegment);
        int segments = 0;
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            Assert.True(ChannelPair.InRing(p.Consumer, segment.Span), $"segment {segments} is a copy, not the ring");
            Assert.True(segment.Span.IndexOfAnyExcept((byte)(segments + 1)) < 0);
            segments++;
        }

        Assert.Equal(3, segments);
        reader.AdvanceTo(buffer.End);
        Assert.Equal(p.Consumer.ReadPosition, Volatile.Read(ref p.Shared.Head)); // all released
    }

    [Fact]
    public async Task PipeReader_AdvanceToInsideTheSecondRecord_ReleasesOnlyTheFirst_KeepsTheRestInPlace()
    {
        using ChannelPair p = new();
        Write(p.Producer, 16, 1);
        Write(p.Producer, 16, 2);
        Write(p.Producer, 16, 3);
        PipeReader reader = p.Consumer.AsPipeReader();
        Assert.True(reader.TryRead(out ReadResult result));
        reader.AdvanceTo(result.Buffer.GetPosition(20)); // 4 bytes into the second record
        Assert.Equal(8 + 16, Volatile.Read(ref p.Shared.Head)); // the first record went back to the producer, only it

        ValueTask<ReadResult> read = reader.ReadAsync(); // not everything was examined: completes at once
        Assert.True(read.IsCompletedSuccessfully);
        ReadOnlySequence<byte> rest = (await read).Buffer;
        Assert.Equal(12 + 16, rest.Length);
        Assert.True(ChannelPair.InRing(p.Consumer, rest.First.Span), "the kept rest of a record is a copy, not the ring");
        byte[] bytes = rest.ToArray();
        Assert.True(bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)2) < 0 && bytes.AsSpan(12).IndexOfAnyExcept((byte)3) < 0);
        reader.AdvanceTo(rest.End);
        Assert.Equal(3 * (8 + 16), Volatile.Read(ref p.Shared.Head));
    }

    [Fact]
    public void PipeReader_Misuse_ThrowsWithAName()
    {
        using ChannelPair p = new();
        Write(p.Producer, 16, 1);
        PipeReader reader = p.Consumer.AsPipeReader();
        Assert.Throws<InvalidOperationException>(() => reader.AdvanceTo(default)); // nothing was read
        Assert.True(reader.TryRead(out ReadResult result));
        Assert.Throws<InvalidOperationException>(() => { reader.ReadAsync(); }); // the last result was not advanced
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.AdvanceTo(result.Buffer.End, result.Buffer.Start));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.AdvanceTo(new ReadOnlySequence<byte>(new byte[4]).End));
        reader.AdvanceTo(result.Buffer.End);
        reader.Complete();
        Assert.Throws<InvalidOperationException>(() => reader.TryRead(out _));
    }

    [Fact]
    public async Task PipeReader_ExaminedEverythingOnAnEmptyRing_WaitsHoldingNoRingSpace_ThenHandsTheRestWithTheNewRecord()
    {
        using ChannelPair p = new();
        Write(p.Producer, 2, 1);
        PipeReader reader = p.Consumer.AsPipeReader();
        ReadResult first = await reader.ReadAsync();
        reader.AdvanceTo(first.Buffer.Start, first.Buffer.End); // a parser that needs more than it has

        using CancellationTokenSource bound = new(s_bound);
        ValueTask<ReadResult> pending = reader.ReadAsync(bound.Token);
        Assert.False(pending.IsCompleted); // nothing new: it waits
        Assert.Equal(8 + 8, Volatile.Read(ref p.Shared.Head)); // ...having given the ring space back (the kept bytes were copied out)

        Write(p.Producer, 2, 2);
        ReadResult second = await pending.AsTask().WaitAsync(s_bound);
        Assert.Equal(new byte[] { 1, 1, 2, 2 }, second.Buffer.ToArray());
        Assert.True(ChannelPair.InRing(p.Consumer, second.Buffer.Slice(2).First.Span), "the new record is a copy, not the ring");
        reader.AdvanceTo(second.Buffer.End);
    }

    [Fact]
    public async Task PipeReader_WaitingRead_TokenCancelled_ThrowsOperationCanceled_AndTheReaderReadsOn()
    {
        using ChannelPair p = new();
        PipeReader reader = p.Consumer.AsPipeReader();
        using CancellationTokenSource cancel = new();
        ValueTask<ReadResult> pending = reader.ReadAsync(cancel.Token);
        Assert.False(pending.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask().WaitAsync(s_bound));

        Write(p.Producer, 5, 7);
        using CancellationTokenSource bound = new(s_bound);
        ReadResult result = await reader.ReadAsync(bound.Token);
        Assert.Equal(5, result.Buffer.Length);
        reader.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task PipeReader_CancelPendingRead_TheWaitingReadReturnsCanceled()
    {
        using ChannelPair p = new();
        PipeReader reader = p.Consumer.AsPipeReader();
        using CancellationTokenSource bound = new(s_bound);
        ValueTask<ReadResult> pending = reader.ReadAsync(bound.Token);
        Assert.False(pending.IsCompleted);
        reader.CancelPendingRead();
        ReadResult result = await pending.AsTask().WaitAsync(s_bound);
        Assert.True(result.IsCanceled);
        Assert.True(result.Buffer.IsEmpty);
        reader.AdvanceTo(result.Buffer.End);

        reader.CancelPendingRead(); // none pending: the next read is the canceled one
        Assert.True(reader.TryRead(out ReadResult next) && next.IsCanceled);
        reader.AdvanceTo(next.Buffer.End);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PipeReader_ProducerGone_ReadsTheRest_ThenIsCompletedIfItCompletedElseThrowsIOException(bool completes)
    {
        using ChannelPair p = new();
        PipeWriter writer = p.Producer.AsPipeWriter();
        writer.GetSpan(3)[..3].Fill(4);
        writer.Advance(3);
        if (completes)
        {
            await writer.CompleteAsync(); // publishes what was advanced, then the end
        }
        else
        {
            await writer.FlushAsync();
            p.Producer.Dispose(); // gone without an end record, as when it dies
        }

        PipeReader reader = p.Consumer.AsPipeReader();
        using CancellationTokenSource bound = new(s_bound);
        ReadResult result = await reader.ReadAsync(bound.Token);
        Assert.Equal(3, result.Buffer.Length);
        Assert.Equal(completes, result.IsCompleted);
        reader.AdvanceTo(result.Buffer.End);
        if (completes)
        {
            Assert.True((await reader.ReadAsync(bound.Token)).IsCompleted);
        }
        else
        {
            await Assert.ThrowsAsync<IOException>(async () => await reader.ReadAsync(bound.Token));
        }
    }

    [Theory]
    [InlineData("consumer releases")]
    [InlineData("token cancelled")]
    [InlineData("CancelPendingFlush")]
    [InlineData("consumer gone")]
    public async Task PipeWriter_FlushWaitingOnAFullRing_Ends(string how)
    {
        using ChannelPair p = new();
        PipeWriter writer = p.Producer.AsPipeWriter(1000);
        using CancellationTokenSource cancel = new(s_bound);
        ValueTask<FlushResult> flush = FillUntilAFlushWaits(writer, 1000, cancel.Token);
        Assert.False(flush.IsCompleted);
        switch (how)
        {
            case "consumer releases":
                Assert.Equal(L4Status.Ok, p.Consumer.Read(L4Timeout.Zero, out _)); // everything advanced was published before the wait
                p.Consumer.Release();
                FlushResult result = await flush.AsTask().WaitAsync(s_bound);
                Assert.False(result.IsCanceled || result.IsCompleted);
                Assert.True(ChannelPair.InRing(p.Producer, writer.GetSpan(1000)), "the flush reserved the next record in the ring");
                break;
            case "token cancelled":
                cancel.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => flush.AsTask().WaitAsync(s_bound));
                break;
            case "CancelPendingFlush":
                writer.CancelPendingFlush();
                Assert.True((await flush.AsTask().WaitAsync(s_bound)).IsCanceled);
                break;
            default:
                p.Consumer.Dispose();
                Assert.True((await flush.AsTask().WaitAsync(s_bound)).IsCompleted); // nobody reads on, as with a completed Pipe reader
                break;
        }
    }

    [Fact]
    public async Task PipeWriterToPipeReader_RandomSizesThroughATinyRing_EveryByteInOrder()
    {
        const int Total = 4 << 20;
        using ChannelPair p = new(4096);
        using CancellationTokenSource bound = new(TimeSpan.FromSeconds(60));
        Task writing = Task.Run(async () =>
        {
            PipeWriter writer = p.Producer.AsPipeWriter();
            Random random = new(11);
            for (int sent = 0; sent < Total;)
            {
                Span<byte> span = writer.GetSpan(random.Next(0, 3000));
                int n = Math.Min(Math.Min(span.Length, random.Next(1, 3000)), Total - sent);
                for (int i = 0; i < n; i++)
                {
                    span[i] = (byte)((sent + i) * 7);
                }

                writer.Advance(n);
                sent += n;
                if (random.Next(4) == 0 || sent == Total)
                {
                    Assert.False((await writer.FlushAsync(bound.Token)).IsCompleted);
                }
            }

            await writer.CompleteAsync();
        });

        PipeReader reader = p.Consumer.AsPipeReader();
        Random consuming = new(12);
        long received = 0;
        while (true)
        {
            ReadResult result = await reader.ReadAsync(bound.Token);
            ReadOnlySequence<byte> buffer = result.Buffer;
            long take = consuming.Next(3) == 0 ? consuming.NextInt64(0, buffer.Length + 1) : buffer.Length; // sometimes a part only
            long at = 0;
            foreach (ReadOnlyMemory<byte> segment in buffer.Slice(0, take))
            {
                ReadOnlySpan<byte> span = segment.Span;
                for (int i = 0; i < span.Length; i++, at++)
                {
                    Assert.Equal((byte)((received + at) * 7), span[i]);
                }
            }

            received += take;
            bool completed = result.IsCompleted && take == buffer.Length;
            reader.AdvanceTo(buffer.GetPosition(take), buffer.End); // all examined: a part kept waits for more
            if (completed)
            {
                break;
            }
        }

        await writing.WaitAsync(bound.Token);
        Assert.Equal(Total, received);
        Assert.True(p.Consumer.Stalls > 0 && p.Producer.Stalls > 0, "both sides waited: the test went through the waiting paths");
    }

    [Fact]
    public void PipeWriterAndReader_SteadyState_AllocateZeroBytes()
    {
        using ChannelPair p = new(1 << 16);
        PipeWriter writer = p.Producer.AsPipeWriter();
        PipeReader reader = p.Consumer.AsPipeReader();
        int wrong = 0; // counted, not asserted, inside the measured loop: assertions allocate
        void Round(int i)
        {
            for (int r = 0; r < 3; r++)
            {
                Span<byte> span = writer.GetSpan(100);
                span[0] = (byte)(i + r);
                writer.Advance(100);
            }

            ValueTask<FlushResult> flush = writer.FlushAsync();
            wrong += flush.IsCompletedSuccessfully && !flush.Result.IsCompleted ? 0 : 1;
            ValueTask<ReadResult> read = reader.ReadAsync();
            if (!read.IsCompletedSuccessfully)
            {
                wrong += 1000;
                return;
            }

            ReadOnlySequence<byte> buffer = read.Result.Buffer;
            wrong += buffer.Length == 300 && buffer.FirstSpan[0] == (byte)i ? 0 : 1;
            reader.AdvanceTo(buffer.GetPosition(150)); // half way into the second record: one released, two kept
            read = reader.ReadAsync();
            if (!read.IsCompletedSuccessfully)
            {
                wrong += 1000;
                return;
            }

            buffer = read.Result.Buffer;
            wrong += buffer.Length == 150 ? 0 : 1;
            reader.AdvanceTo(buffer.End);
        }

        long allocated = Allocations.OverRounds(Round);
        Assert.Equal(0, wrong);
        Assert.Equal(0, allocated);
        Assert.Equal(22_000 * 3, p.Consumer.Records);
    }
}
