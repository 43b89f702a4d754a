using System.Runtime.CompilerServices;
using L4Rt.Channels;
using L4Rt.Objects;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>What an L4Task remembers about its endpoints lasts no longer than the endpoints.</summary>
[Collection(ProcessCollection.Name)]
public class TaskTrackingTests
{
    [Fact]
    public async Task ChannelEnd_DisposedAndDropped_IsNotKeptAliveByItsTask()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        Channel channel = await task.Factory.CreateChannelAsync(1 << 12);
        WeakReference end = OpenAndDispose(task, channel);
        for (int i = 0; i < 3 && end.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(end.IsAlive, "a disposed channel end stays reachable through its task");
    }

    [Fact]
    public async Task ChannelEnd_Held_IsTrackedSoBrokerLossEndsItsWaits()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        Channel channel = await task.Factory.CreateChannelAsync(1 << 12);
        using ChannelConsumer consumer = await channel.OpenConsumerAsync();
        Assert.True(task.IsTrackingChannel(consumer));
        broker.Kill();
        Assert.Equal(L4Status.DestinationDeleted, consumer.Read(L4Rt.Ipc.L4Timeout.FromMilliseconds(10_000), out _));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference OpenAndDispose(L4Task task, Channel channel)
    {
        ChannelProducer producer = channel.OpenProducerAsync().GetAwaiter().GetResult();
        Assert.True(task.IsTrackingChannel(producer));
        producer.Dispose();
        return new WeakReference(producer);
    }
}
