using L4Rt.Channels;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Objects;

/// <summary>
/// A FIFO channel held as a capability: the right <see cref="CapRights.Write"/> lets a task take the producing end,
/// <see cref="CapRights.Send"/> the consuming end (map it to another task with just the right it needs). One end
/// of each kind at a time; when a holder's task dies, the other end drains what was committed and then gets
/// <see cref="L4Status.DestinationDeleted"/>.
/// </summary>
public sealed class Channel : Capability
{
    internal Channel(L4Task task, int slot, CapRights rights)
        : base(task, slot, CapKind.Channel, rights)
    {
    }

    /// <summary>Takes the producing end (needs the write right).</summary>
    public async Task<ChannelProducer> OpenProducerAsync(CancellationToken cancellationToken = default) =>
        (ChannelProducer)await OpenAsync(producer: true, cancellationToken).ConfigureAwait(false);

    /// <summary>Takes the consuming end (needs the send right).</summary>
    public async Task<ChannelConsumer> OpenConsumerAsync(CancellationToken cancellationToken = default) =>
        (ChannelConsumer)await OpenAsync(producer: false, cancellationToken).ConfigureAwait(false);

    private async Task<ChannelEndpoint> OpenAsync(bool producer, CancellationToken cancellationToken)
    {
        ChannelAttach.Reply attached = await Owner.RequestAsync(new ChannelAttach.Request(Slot, producer ? (byte)1 : (byte)0),
            producer ? "open the channel's producer end" : "open the channel's consumer end", cancellationToken).ConfigureAwait(false);
        ChannelRegion region = ChannelRegion.Attach(attached.Ring, attached.Capacity);
        ChannelEndpoint endpoint = producer ? new ChannelProducer(region) : new ChannelConsumer(region);
        Owner.TrackChannel(endpoint);
        return endpoint;
    }
}
