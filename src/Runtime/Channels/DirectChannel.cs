using System.Buffers.Binary;
using System.Diagnostics;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Memory;

namespace L4Rt.Channels;

/// <summary>The connecting side of broker-less channel setup; see <see cref="DirectChannelListener"/>.</summary>
public static class DirectChannel
{
    /// <summary>Connects and takes the consuming end (the listener produces).</summary>
    public static ChannelConsumer ConnectConsumer(string path, TimeSpan timeout) => (ChannelConsumer)Connect(path, timeout, producer: false);

    /// <summary>Connects and takes the producing end (the listener consumes).</summary>
    public static ChannelProducer ConnectProducer(string path, TimeSpan timeout) => (ChannelProducer)Connect(path, timeout, producer: true);

    private static ChannelEndpoint Connect(string path, TimeSpan timeout, bool producer)
    {
        List<SafeFdHandle> fds = [];
        Span<byte> hello = stackalloc byte[64];
        try
        {
            (int length, int peerPid) = DirectHandover.Connect(path, timeout, hello, fds, DirectChannelListener.HelloMagic, expectedFds: 1);
            if (length != 16 || BinaryPrimitives.ReadUInt32LittleEndian(hello[4..]) != (producer ? 1u : 0u))
            {
                throw new L4RtException(L4Status.ProtocolViolation, $"the channel listener at {path} sent a malformed hand-over or offers the other role");
            }

            ChannelRegion region = ChannelRegion.Attach(fds[0].ToFileHandle(), BinaryPrimitives.ReadInt64LittleEndian(hello[8..]));
            fds.Clear();
            ChannelEndpoint endpoint = producer ? new ChannelProducer(region) : new ChannelConsumer(region);
            PeerWatch.Instance.Register(peerPid, endpoint.MarkPeerDead);
            return endpoint;
        }
        finally
        {
            foreach (SafeFdHandle fd in fds)
            {
                fd.Dispose();
            }
        }
    }
}
