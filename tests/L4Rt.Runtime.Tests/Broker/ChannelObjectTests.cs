using System.Diagnostics;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>Channels as broker objects: created through a factory, ends handed out by rights, death of an end's task.</summary>
[Collection(ProcessCollection.Name)]
public class ChannelObjectTests
{
    [Fact]
    public async Task Channel_ChargedToFactory_EndsByRights_ProducerTaskKilled_ConsumerDrainsThenDestinationDeleted()
    {
        using BrokerProcess broker = new();
        await using L4Task owner = await broker.ConnectAsync("owner");
        FactoryUsage before = await owner.Factory.GetUsageAsync();
        Channel channel = await owner.Factory.CreateChannelAsync(1 << 16);
        FactoryUsage charged = await owner.Factory.GetUsageAsync();
        Assert.Equal(before.UsedBytes + 4096 + (1 << 16), charged.UsedBytes);
        Assert.Equal(before.UsedObjects + 1, charged.UsedObjects);

        // A producer-only capability under a name: the other task may produce, not consume.
        await owner.Names.RegisterAsync("media/stream", channel, CapRights.Write);
        using ChannelConsumer consumer = await channel.OpenConsumerAsync();
        L4RtException second = await Assert.ThrowsAsync<L4RtException>(() => channel.OpenConsumerAsync());
        Assert.Equal(L4Status.AlreadyExists, second.Status); // one consumer at a time

        await using (L4Task other = await broker.ConnectAsync("other"))
        {
            Channel produceOnly = await other.Names.QueryAsync<Channel>("media/stream", TimeSpan.Zero);
            L4RtException noRight = await Assert.ThrowsAsync<L4RtException>(() => produceOnly.OpenConsumerAsync());
            Assert.Equal(L4Status.NoRights, noRight.Status);
        }

        using ChildProcess producer = ChildProcess.Start("task-chan-produce", broker.SocketPath, "media/stream", "300");
        producer.WaitForLine("PRODUCED");
        for (int i = 0; i < 300; i++)
        {
            Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(5000), out ReadOnlySpan<byte> record));
            Assert.Equal(i, BitConverter.ToInt32(record));
            consumer.Release();
        }

        L4Status last = L4Status.Ok;
        long returnedAt = 0;
        Thread reading = new(() =>
        {
            last = consumer.Read(L4Timeout.Never, out _);
            returnedAt = Stopwatch.GetTimestamp();
        });
        reading.Start();
        Thread.Sleep(100);
        long killedAt = producer.Kill();
        Assert.True(reading.Join(5000));
        Assert.Equal(L4Status.DestinationDeleted, last);
        TimeSpan latency = Stopwatch.GetElapsedTime(killedAt, returnedAt);
        Assert.True(latency < TimeSpan.FromMilliseconds(100), $"{latency.TotalMilliseconds:0.0} ms");

        await channel.DeleteAsync();
        Assert.Equal(before, await owner.Factory.GetUsageAsync()); // refunded
    }

    [Fact]
    public async Task Channel_BeyondByteQuota_NothingCreated()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        Factory small = await task.Factory.CreateFactoryAsync(bytes: 1 << 16, objects: 4);
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => small.CreateChannelAsync(1 << 16)); // 64 KiB + header page
        Assert.Equal(L4Status.QuotaExceeded, e.Status);
        Assert.Equal(new FactoryUsage(1 << 16, 0, 4, 0, 256, 0), await small.GetUsageAsync());
    }

    [Fact]
    public async Task BadArguments_AreInvalidArgument_WrongKindSaysWhatTheSlotNames()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        L4RtException capacity = await Assert.ThrowsAsync<L4RtException>(() => task.Factory.CreateChannelAsync(5000));
        Assert.Equal(L4Status.InvalidArgument, capacity.Status);
        Assert.Contains("power of two", capacity.Message, StringComparison.Ordinal);
        L4RtException quota = await Assert.ThrowsAsync<L4RtException>(() => task.Factory.CreateFactoryAsync(-1, 1));
        Assert.Equal(L4Status.InvalidArgument, quota.Status);

        Factory notAFactory = new(task, task.Names.Slot, CapRights.All);
        L4RtException kind = await Assert.ThrowsAsync<L4RtException>(() => notAFactory.CreateChannelAsync(4096));
        Assert.Equal(L4Status.InvalidCapability, kind.Status);
        Assert.Contains($"slot {task.Names.Slot} names a Namespace, not a Factory", kind.Message, StringComparison.Ordinal);
    }
}
