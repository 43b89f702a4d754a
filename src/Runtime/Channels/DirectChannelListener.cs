using System.Buffers.Binary;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Memory;

namespace L4Rt.Channels;

/// <summary>
/// Broker-less channel setup (as <see cref="DirectLinkListener"/> for links): this side creates the ring and takes
/// one end; the process that connects (same uid only) gets the other end; each side watches the other's pid.
/// </summary>
public sealed class DirectChannelListener : IDisposable
{
    internal const uint HelloMagic = 0x4843344C;
    private readonly UnixSeqpacketSocket _socket;

    private DirectChannelListener(string path, UnixSeqpacketSocket socket)
    {
        Path = path;
        _socket = socket;
    }

    /// <summary>The socket path the other side connects to.</summary>
    public string Path { get; }

    /// <summary>
    /// Listens on <paramref name="path"/>. A socket file left there by a listener that died (even by SIGKILL) is
    /// replaced; a live listener on the path is refused with <see cref="InvalidOperationException"/>, as is a path
    /// that is not a socket or belongs to another uid.
    /// </summary>
    public static DirectChannelListener Listen(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new(path, UnixSeqpacketSocket.ListenReplacingStale(path, backlog: 64, "direct-channel listener", out _));
    }

    /// <summary>Creates a ring of <paramref name="capacity"/> bytes; this side produces, the connecting process consumes.</summary>
    public ChannelProducer AcceptAsProducer(long capacity, TimeSpan timeout) => (ChannelProducer)Accept(capacity, timeout, producer: true);

    /// <summary>Creates a ring of <paramref name="capacity"/> bytes; this side consumes, the connecting process produces.</summary>
    public ChannelConsumer AcceptAsConsumer(long capacity, TimeSpan timeout) => (ChannelConsumer)Accept(capacity, timeout, producer: false);

    private ChannelEndpoint Accept(long capacity, TimeSpan timeout, bool producer) =>
        DirectHandover.Accept(_socket, Path, timeout, (connection, peer) =>
        {
            ChannelRegion region = ChannelRegion.Create(capacity);
            ChannelEndpoint endpoint = producer ? new ChannelProducer(region) : new ChannelConsumer(region);
            try
            {
                Span<byte> hello = stackalloc byte[16];
                BinaryPrimitives.WriteUInt32LittleEndian(hello, HelloMagic);
                BinaryPrimitives.WriteUInt32LittleEndian(hello[4..], producer ? 0u : 1u); // the role the peer takes: 0 consumer, 1 producer
                BinaryPrimitives.WriteInt64LittleEndian(hello[8..], capacity);
                connection.Send(hello, [region.Handle]);
                PeerWatch.Instance.Register(peer.Pid, endpoint.MarkPeerDead);
                return endpoint;
            }
            catch
            {
                endpoint.Dispose();
                throw;
            }
        });

    /// <inheritdoc/>
    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
    }
}
