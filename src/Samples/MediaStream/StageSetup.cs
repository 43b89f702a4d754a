using L4Rt.Channels;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// Connects each stage to its neighbours through the name service. Every stage first creates and registers what it
/// provides (the channel it reads, the source's pool and free-slot channel), then queries what it needs, so no two
/// stages wait for each other. A channel is created by its reader and registered with the write right only: the
/// writer can open the producing end and nothing else.
/// </summary>
internal static class StageSetup
{
    private static readonly TimeSpan s_query = TimeSpan.FromSeconds(30);

    /// <summary>The source's output: the raw channel (FIFO), or the pool it creates, its free-slot channel and the raw index channel.</summary>
    public static async Task<FrameOutput> SourceAsync(L4Task task, StageNames names, MediaOptions o, Transport transport)
    {
        FrameGeometry g = o.Geometry;
        if (transport == Transport.Fifo)
        {
            return new FifoFrameOutput(await OpenProducerAsync(task, names.Raw), g, "filter");
        }

        Dataspace dataspace = await task.Factory.CreateDataspaceAsync(FramePool.SizeFor(g, o.PoolSlots));
        FramePool pool = new(await dataspace.MapAsync(CapRights.Write), g);
        await task.Names.RegisterAsync(names.Pool, dataspace, CapRights.Read | CapRights.Write);
        ChannelConsumer freeSlots = await CreateAsync(task, names.FreeSlots, ChannelFailure.RingFor(FrameRecord.HeaderSize, o.PoolSlots + 1));
        return new PoolSourceOutput(pool, freeSlots, await OpenProducerAsync(task, names.Raw));
    }

    /// <summary>The filter's input (the raw channel it creates) and output (the filtered channel; with the pool, the pool it maps read-write).</summary>
    public static async Task<(FrameInput Input, FrameOutput Output)> FilterAsync(L4Task task, StageNames names, MediaOptions o, Transport transport)
    {
        FrameGeometry g = o.Geometry;
        if (transport == Transport.Fifo)
        {
            ChannelConsumer raw = await CreateAsync(task, names.Raw, ChannelFailure.RingFor(FrameRecord.HeaderSize + g.FrameSize, o.RingFrames));
            return (new FifoFrameInput(raw, g, "source"), new FifoFrameOutput(await OpenProducerAsync(task, names.Filtered), g, "sink"));
        }

        ChannelConsumer indices = await CreateAsync(task, names.Raw, ChannelFailure.RingFor(FrameRecord.HeaderSize, o.PoolSlots + 1));
        FramePool pool = await MapPoolAsync(task, names, g, CapRights.Write); // filtered in place: read-write
        return (new PoolFrameInput(indices, pool, null, "source"), new PoolFrameOutput(pool, await OpenProducerAsync(task, names.Filtered), "sink"));
    }

    /// <summary>The sink's input: the filtered channel it creates (and, with the pool, the pool mapped read-only and the free-slot channel).</summary>
    public static async Task<FrameInput> SinkAsync(L4Task task, StageNames names, MediaOptions o, Transport transport)
    {
        FrameGeometry g = o.Geometry;
        if (transport == Transport.Fifo)
        {
            return new FifoFrameInput(await CreateAsync(task, names.Filtered, ChannelFailure.RingFor(FrameRecord.HeaderSize + g.FrameSize, o.RingFrames)), g, "filter");
        }

        ChannelConsumer indices = await CreateAsync(task, names.Filtered, ChannelFailure.RingFor(FrameRecord.HeaderSize, o.PoolSlots + 1));
        FramePool pool = await MapPoolAsync(task, names, g, CapRights.Read); // the sink only reads: a read-only mapping
        return new PoolFrameInput(indices, pool, await OpenProducerAsync(task, names.FreeSlots), "filter");
    }

    /// <summary>Creates a channel this stage reads, registers it for its writer and opens the consuming end.</summary>
    private static async Task<ChannelConsumer> CreateAsync(L4Task task, string name, long capacity)
    {
        Channel channel = await task.Factory.CreateChannelAsync(capacity);
        ChannelConsumer consumer = await channel.OpenConsumerAsync();
        await task.Names.RegisterAsync(name, channel, CapRights.Write);
        return consumer;
    }

    private static async Task<ChannelProducer> OpenProducerAsync(L4Task task, string name) =>
        await (await task.Names.QueryAsync<Channel>(name, s_query)).OpenProducerAsync();

    private static async Task<FramePool> MapPoolAsync(L4Task task, StageNames names, FrameGeometry g, CapRights rights) =>
        new(await (await task.Names.QueryAsync<Dataspace>(names.Pool, s_query)).MapAsync(rights), g);
}
