using System.Runtime.CompilerServices;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Channels;

/// <summary>The ring's pitfalls, exercised in one process (two threads) where timing control helps.</summary>
[Collection(ProcessCollection.Name)]
public class ChannelUnitTests
{
    private static Func<Exception?> Background(Action body) => BackgroundThread.Start(body);

    internal static (ChannelProducer, ChannelConsumer, TempDir, DirectChannelListener) Pair(long capacity)
    {
        TempDir dir = new();
        DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        Task<ChannelConsumer> consumer = Task.Run(() => DirectChannel.ConnectConsumer(dir.Socket(), TimeSpan.FromSeconds(10)));
        ChannelProducer producer = listener.AcceptAsProducer(capacity, TimeSpan.FromSeconds(10));
        return (producer, consumer.GetAwaiter().GetResult(), dir, listener);
    }

    [Fact]
    public void Commit_MoreThanReservedOrNegative_Throws_TheReservationStaysForACorrectCommit()
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(4096);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            Assert.Equal(L4Status.Ok, producer.Reserve(100, L4Timeout.Zero, out Span<byte> slot));
            slot.Fill(7);
            Assert.Throws<ArgumentOutOfRangeException>(() => producer.Commit(101)); // would publish 1 stale byte
            Assert.Throws<ArgumentOutOfRangeException>(() => producer.Commit(-1));
            producer.Commit(100);
            Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> record));
            Assert.Equal(100, record.Length);
            Assert.True(record.ToArray().All(b => b == 7));
        }
    }

    [Fact]
    public void Layout_ProducerAndConsumerFieldsOnSeparateCacheLines()
    {
        ChannelLayout l = default;
        int Offset<T>(ref T field) => (int)Unsafe.ByteOffset(ref Unsafe.As<ChannelLayout, byte>(ref l), ref Unsafe.As<T, byte>(ref field));
        Assert.Equal(0, Offset(ref l.Magic));
        Assert.Equal(8, Offset(ref l.Capacity));
        Assert.Equal(64, Offset(ref l.Tail));
        Assert.Equal(72, Offset(ref l.DataWake));
        Assert.Equal(76, Offset(ref l.ConsumerWaiting));
        Assert.Equal(80, Offset(ref l.ProducerDead));
        Assert.Equal(128, Offset(ref l.Head));
        Assert.Equal(136, Offset(ref l.SpaceWake));
        Assert.Equal(140, Offset(ref l.ProducerWaiting));
        Assert.Equal(144, Offset(ref l.ConsumerDead));
        Assert.NotEqual(Offset(ref l.Tail) / 64, Offset(ref l.Head) / 64); // no false sharing between the two positions
    }

    [Fact]
    public void OddRecordSizes_WrapAroundManyTimes_EveryByteArrivesIntact()
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(4096);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            const int Count = 20_000;
            Func<Exception?> writing = Background(() =>
            {
                Random random = new(5);
                for (int i = 0; i < Count; i++)
                {
                    int size = random.Next(0, 1500);
                    Assert.Equal(L4Status.Ok, producer.Reserve(size, L4Timeout.Never, out Span<byte> record));
                    record.Fill((byte)i);
                    producer.Commit(size, publish: (i & 3) == 0); // batch some publishes
                }

                producer.Publish();
            });
            Random expected = new(5);
            for (int i = 0; i < Count; i++)
            {
                Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(10_000), out ReadOnlySpan<byte> record));
                Assert.Equal(expected.Next(0, 1500), record.Length);
                Assert.True(record.IndexOfAnyExcept((byte)i) < 0, $"record {i} torn");
                consumer.Release();
            }

            Assert.Null(writing());
            Assert.True(producer.Records == Count && consumer.Records == Count);
        }
    }

    /// <summary>
    /// The batched-release hazard: 4 KiB ring, 1000-byte records, 4 reads without Release fill it. The producer's
    /// 5th write waits for space, the consumer's 5th read waits for data; the read must release the 4 first.
    /// </summary>
    [Fact]
    public void Read_FourRecordsUnreleasedFillTheRing_TheFifthReadReleasesThemAndBothSidesProceed()
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(4096);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            L4Status[] written = new L4Status[5];
            Func<Exception?> writing = Background(() =>
            {
                byte[] data = new byte[1000];
                for (int i = 0; i < written.Length; i++)
                {
                    data.AsSpan().Fill((byte)(i + 1));
                    written[i] = producer.Write(data, L4Timeout.FromMilliseconds(3000));
                }
            });
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(3000), out ReadOnlySpan<byte> record));
                Assert.Equal((byte)(i + 1), record[999]);
            }

            Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(3000), out ReadOnlySpan<byte> fifth));
            Assert.Equal(1000, fifth.Length);
            Assert.True(fifth.IndexOfAnyExcept((byte)5) < 0, "the fifth record is intact");
            consumer.Release();
            Assert.Null(writing());
            Assert.Equal([L4Status.Ok, L4Status.Ok, L4Status.Ok, L4Status.Ok, L4Status.Ok], written);
        }
    }

    [Fact]
    public void WaitForData_FourRecordsReadWithoutReleaseFillTheRing_ReleasesThemSoTheProducerCanWrite()
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(4096);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            byte[] data = new byte[1000];
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(L4Status.Ok, producer.Write(data, L4Timeout.Zero));
                Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.Zero, out _)); // Zero never waits, so never releases
            }

            Assert.Equal(4032, producer.BytesInFlight);
            L4Status fifth = L4Status.Aborted;
            Func<Exception?> writing = Background(() => fifth = producer.Write(data, L4Timeout.FromMilliseconds(3000)));
            Assert.Equal(L4Status.Ok, consumer.WaitForData(L4Timeout.FromMilliseconds(3000)));
            Assert.Null(writing());
            Assert.Equal(L4Status.Ok, fifth);
        }
    }

    [Fact]
    public void FutexOnlyBothSides_TinyRing_NoLostWakeup()
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(4096);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            producer.SpinNanoseconds = 0;
            consumer.SpinNanoseconds = 0;
            const int Count = 100_000;
            Func<Exception?> writing = Background(() =>
            {
                for (int i = 0; i < Count; i++)
                {
                    Assert.Equal(L4Status.Ok, producer.Write(BitConverter.GetBytes(i), L4Timeout.FromMilliseconds(10_000)));
                }
            });
            byte[] buffer = new byte[8];
            for (int i = 0; i < Count; i++)
            {
                Assert.Equal(L4Status.Ok, consumer.Read(buffer, L4Timeout.FromMilliseconds(10_000), out int length));
                Assert.Equal(i, BitConverter.ToInt32(buffer.AsSpan(0, length)));
            }

            Assert.Null(writing());
            Assert.True(consumer.Stalls > 0 && (producer.WakeupsIssued > 0 || consumer.WakeupsIssued > 0), "the test must actually sleep and wake");
        }
    }

    [Fact]
    public void RecordLargerThanRing_ClearError_AndZeroTimeoutsReportFullAndEmpty()
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(4096);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            ArgumentOutOfRangeException e = Assert.Throws<ArgumentOutOfRangeException>(() => producer.Reserve(5000, L4Timeout.Zero, out _));
            Assert.Contains("does not fit a ring of 4096 bytes", e.Message, StringComparison.Ordinal);
            Assert.Equal(L4Status.ReceiveTimeout, consumer.Read(L4Timeout.Zero, out _));
            Assert.Equal(L4Status.Ok, producer.Write(new byte[producer.MaxRecordSize], L4Timeout.Zero));
            Assert.Equal(L4Status.SendTimeout, producer.Write(new byte[1], L4Timeout.Zero)); // full
            Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> big));
            Assert.Equal(producer.MaxRecordSize, big.Length);
            Assert.Equal(L4Status.SendTimeout, producer.Write(new byte[1], L4Timeout.Zero)); // read but not released: still full
            consumer.Release();
            Assert.Equal(L4Status.Ok, producer.Write(new byte[1], L4Timeout.Zero));
        }
    }

    [Fact]
    public void RecordAboveHalfTheRing_AtAWrapPoint_IsPlacedOnceTheRingDrains_NotRefusedForever()
    {
        // 30,000 bytes leave the tail at 30,008; a 40,000-byte record then has to wrap: padding (35,528) plus the
        // record (40,008) is more than the 64 KiB ring, so waiting for both at once never ends, however empty
        // the ring gets. Before the fix both sides sat in their timeouts here.
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(1 << 16);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            byte[] first = new byte[30_000], second = new byte[40_000], third = new byte[50_000];
            Random.Shared.NextBytes(second);
            Assert.Equal(L4Status.Ok, producer.Write(first, L4Timeout.Zero));
            Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.Zero, out _));
            consumer.Release();

            // Non-blocking on both sides: the padding goes in at once, the record once the consumer has passed it.
            Assert.Equal(L4Status.SendTimeout, producer.Write(second, L4Timeout.Zero));
            Assert.Equal(L4Status.ReceiveTimeout, consumer.Read(L4Timeout.Zero, out _)); // steps over (and releases) the padding
            Assert.Equal(L4Status.Ok, producer.Write(second, L4Timeout.Zero));
            Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> record));
            Assert.True(record.SequenceEqual(second));
            consumer.Release();

            // Blocking on both sides: the consumer sleeps in Read, the producer in Reserve, and both get through.
            Func<Exception?> reading = Background(() =>
            {
                Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(10_000), out ReadOnlySpan<byte> got));
                Assert.Equal(third.Length, got.Length);
                consumer.Release();
            });
            Assert.Equal(L4Status.Ok, producer.Write(third, L4Timeout.FromMilliseconds(10_000)));
            Assert.Null(reading());
        }
    }

    [Fact]
    public void CopyingRead_DestinationTooSmall_ReturnsTheLengthNeededWithoutThrowingOrAllocating()
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(1 << 16);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            byte[] data = new byte[100];
            byte[] small = new byte[10];
            byte[] large = new byte[100];
            int wrong = 0; // counted, not asserted, inside the measured loop: assertions allocate
            void Round(int i)
            {
                data[0] = (byte)i;
                wrong += producer.Write(data, L4Timeout.Zero) == L4Status.Ok ? 0 : 1;
                wrong += consumer.Read(small, L4Timeout.Zero, out int needed) == L4Status.BufferTooSmall && needed == 100 ? 0 : 1;
                wrong += consumer.Read(large, L4Timeout.Zero, out int length) == L4Status.Ok ? 0 : 1;
                wrong += length == 100 && large[0] == (byte)i ? 0 : 1; // the record that did not fit is read next, whole
            }

            long allocated = Allocations.OverRounds(Round);
            Assert.Equal(0, wrong);
            Assert.Equal(0, allocated);
            Assert.Equal(22_000, consumer.Records);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(L4Thread.MaxSpinNanoseconds + 1)]
    public void SpinNanoseconds_OutOfRange_ThrowsOnThreadsAndChannelEndsAlike(long value)
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(4096);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        using (L4Thread thread = new())
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => thread.SpinNanoseconds = value);
            Assert.Throws<ArgumentOutOfRangeException>(() => producer.SpinNanoseconds = value);
            Assert.Throws<ArgumentOutOfRangeException>(() => consumer.SpinNanoseconds = value);
            Assert.Equal(L4Thread.DefaultSpinNanoseconds, producer.SpinNanoseconds, tolerance: 1_000); // unchanged

            thread.SpinNanoseconds = L4Thread.MaxSpinNanoseconds; // the bounds themselves are accepted
            producer.SpinNanoseconds = L4Thread.MaxSpinNanoseconds;
            consumer.SpinNanoseconds = 0;
            Assert.Equal(L4Thread.MaxSpinNanoseconds, producer.SpinNanoseconds, tolerance: 1_000);
        }
    }

    [Fact]
    public void SteadyStateWriteAndRead_AllocateZeroBytes()
    {
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = Pair(1 << 16);
        using (dir)
        using (listener)
        using (producer)
        using (consumer)
        {
            const int Count = 200_000;
            long producerAllocated = -1;
            Func<Exception?> writing = Background(() =>
            {
                byte[] data = new byte[100];
                for (int i = 0; i < 20_000; i++)
                {
                    producer.Write(data, L4Timeout.Never);
                }

                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 20_000; i < Count; i++)
                {
                    producer.Reserve(100, L4Timeout.Never, out Span<byte> record);
                    record[0] = (byte)i;
                    producer.Commit(100);
                }

                producerAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            long consumerBefore = 0;
            for (int i = 0; i < Count; i++)
            {
                if (i == 20_000)
                {
                    consumerBefore = GC.GetAllocatedBytesForCurrentThread();
                }

                consumer.Read(L4Timeout.Never, out ReadOnlySpan<byte> _);
                consumer.Release();
            }

            long consumerAllocated = GC.GetAllocatedBytesForCurrentThread() - consumerBefore;
            Assert.Null(writing());
            Assert.Equal(0, producerAllocated);
            Assert.Equal(0, consumerAllocated);
        }
    }
}
