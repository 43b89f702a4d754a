using L4Rt.Channels;
using L4Rt.Memory;

namespace L4Rt.Tests.Support;

/// <summary>Both ends of one channel in this process (connected through a real socket), disposed together.</summary>
internal sealed class ChannelPair : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly DirectChannelListener _listener;

    internal ChannelPair(long capacity = 4096)
    {
        _listener = DirectChannelListener.Listen(_dir.Socket());
        Task<ChannelConsumer> consumer = Task.Run(() => DirectChannel.ConnectConsumer(_dir.Socket(), TimeSpan.FromSeconds(10)));
        Producer = _listener.AcceptAsProducer(capacity, TimeSpan.FromSeconds(10));
        Consumer = consumer.GetAwaiter().GetResult();
    }

    internal ChannelProducer Producer { get; }

    internal ChannelConsumer Consumer { get; }

    /// <summary>The shared header, as a hostile peer (or a test checking what was published) sees it.</summary>
    internal ref ChannelLayout Shared => ref Producer.Region.Layout;

    /// <summary>
    /// Whether <paramref name="span"/> lies wholly inside the ring's data as <paramref name="end"/> maps it (each end
    /// maps the ring at its own address): memory handed out in place, not a copy.
    /// </summary>
    internal static bool InRing(ChannelEndpoint end, ReadOnlySpan<byte> span)
    {
        ReadOnlySpan<byte> ring = end.Region.Slice(0, (int)end.Capacity);
        return !span.IsEmpty && ring.Overlaps(span, out int offset) && offset >= 0 && offset + span.Length <= ring.Length;
    }

    public void Dispose()
    {
        Consumer.Dispose();
        Producer.Dispose();
        _listener.Dispose();
        _dir.Dispose();
    }
}
