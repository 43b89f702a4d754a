using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Channels;

/// <summary>
/// Targeted hostile writes to the shared header and ring (the random-corruption test covers the rest): each is
/// detected as a protocol violation, or harmless because each side trusts only its private positions.
/// </summary>
[Collection(ProcessCollection.Name)]
public class ChannelCorruptionTests
{
    [Fact]
    public void Read_TailMovedBackwardsAfterItWasSeen_IsAProtocolViolation()
    {
        using ChannelPair p = new();
        p.Producer.Write(new byte[16], L4Timeout.Zero);
        p.Producer.Write(new byte[16], L4Timeout.Zero);
        Assert.Equal(L4Status.Ok, p.Consumer.Read(L4Timeout.Zero, out _));
        Volatile.Write(ref p.Shared.Tail, 0); // a peer rewinding what it already published
        Assert.Equal(L4Status.Ok, p.Consumer.Read(L4Timeout.Zero, out _)); // the second record was already validated
        Assert.Equal(L4Status.ProtocolViolation, p.Consumer.Read(L4Timeout.Zero, out _));
        Assert.True(p.Consumer.IsFaulted);
        Assert.Equal(L4Status.ProtocolViolation, p.Consumer.Read(L4Timeout.FromMilliseconds(10), out _)); // stays faulted
    }

    [Fact]
    public void Read_TailBeyondTheRingOrMisaligned_IsAProtocolViolation()
    {
        using (ChannelPair p = new())
        {
            Volatile.Write(ref p.Shared.Tail, 4096 + 8); // more than the ring could ever hold unreleased
            Assert.Equal(L4Status.ProtocolViolation, p.Consumer.Read(L4Timeout.Zero, out _));
        }

        using (ChannelPair p = new())
        {
            Volatile.Write(ref p.Shared.Tail, 12); // not a record boundary
            Assert.Equal(L4Status.ProtocolViolation, p.Consumer.Read(L4Timeout.Zero, out _));
        }
    }

    [Theory]
    [InlineData(0xFFFF_FFFFUL)]                     // length far beyond the ring
    [InlineData(4090UL)]                            // would straddle the end
    [InlineData((7UL << 32) | 8)]                   // unknown flags
    [InlineData((1UL << 32) | 100)]                 // padding of the wrong length
    public void Read_CorruptRecordHeader_IsAProtocolViolation(ulong header)
    {
        using ChannelPair p = new();
        p.Producer.Write(new byte[32], L4Timeout.Zero);
        p.Producer.Region.HeaderAt(0) = header;
        Assert.Equal(L4Status.ProtocolViolation, p.Consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> record));
        Assert.True(record.IsEmpty);
    }

    [Fact]
    public void Reserve_HeadMovedBackwardsOrPastTheTail_IsAProtocolViolation()
    {
        using ChannelPair p = new();
        byte[] big = new byte[1500];
        p.Producer.Write(big, L4Timeout.Zero);
        p.Producer.Write(big, L4Timeout.Zero);
        Volatile.Write(ref p.Shared.Head, 1 << 20); // released more than was ever published
        Assert.Equal(L4Status.ProtocolViolation, p.Producer.Write(big, L4Timeout.Zero)); // the ring is full: the producer must look at Head
        Assert.True(p.Producer.IsFaulted);
    }

    [Fact]
    public void ScribbledSharedPositions_EachSideKeepsItsPrivatePosition()
    {
        using ChannelPair p = new();
        p.Producer.Write([1], L4Timeout.Zero);
        Assert.Equal(L4Status.Ok, p.Consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> first));
        Assert.Equal(1, first[0]);
        p.Consumer.Release();

        // A peer scribbling the other side's own position changes nothing for that side: it never reads it back.
        Volatile.Write(ref p.Shared.Head, 0);
        p.Producer.Write([2], L4Timeout.Zero); // the producer's Head check sees 0 ≤ its tail: fine, and it writes after its private tail
        Assert.Equal(L4Status.Ok, p.Consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> second));
        Assert.Equal(2, second[0]); // not the first record again
    }

    [Fact]
    public void ScribbledWaitWords_AreOnlyHints()
    {
        using ChannelPair p = new();
        p.Shared.ConsumerWaiting = 1; // a lie: nobody sleeps
        p.Shared.DataWake = -5;
        p.Producer.Write([3], L4Timeout.Zero); // issues one harmless wake
        Assert.Equal(L4Status.Ok, p.Consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> record));
        Assert.Equal(3, record[0]);
        Assert.Equal(L4Status.ReceiveTimeout, p.Consumer.Read(L4Timeout.FromMilliseconds(20), out _)); // a wait still times out properly
    }

    [Fact]
    public void Read_NothingBeforePublish_AndDestinationTooSmallReportsTheLengthAndLeavesTheRecordUnread()
    {
        using ChannelPair p = new();
        p.Producer.Reserve(8, L4Timeout.Zero, out Span<byte> record);
        record.Fill(9);
        p.Producer.Commit(8, publish: false);
        Assert.Equal(L4Status.ReceiveTimeout, p.Consumer.Read(L4Timeout.Zero, out _)); // committed but not published
        p.Producer.Publish();
        Assert.Equal(L4Status.BufferTooSmall, p.Consumer.Read(new byte[4], L4Timeout.Zero, out int needed));
        Assert.Equal(8, needed);
        Assert.Equal(0, p.Consumer.Records); // not counted as read
        byte[] enough = new byte[8];
        Assert.Equal(L4Status.Ok, p.Consumer.Read(enough, L4Timeout.Zero, out int length));
        Assert.Equal(8, length);
        Assert.All(enough, b => Assert.Equal(9, b));
    }
}
