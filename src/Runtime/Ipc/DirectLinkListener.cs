using System.Buffers.Binary;
using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Ipc;

/// <summary>
/// Sets up links without a broker: the receiving process listens on a Unix socket and, for each sender
/// that connects (same uid only, checked with SO_PEERCRED), binds a new link to a receiving
/// <see cref="L4Thread"/> and passes the link and doorbell regions as descriptors. The partner's death is
/// noticed through its pid. The broker replaces this with capability-based setup (gates); tests, the
/// demo and benchmarks use it directly.
/// </summary>
public sealed class DirectLinkListener : IDisposable
{
    internal const uint HelloMagic = 0x4C44344C; // "L4DL"
    internal const int HelloSize = 8;

    private readonly UnixSeqpacketSocket _socket;

    private DirectLinkListener(string path, UnixSeqpacketSocket socket)
    {
        Path = path;
        _socket = socket;
    }

    /// <summary>The socket path senders connect to.</summary>
    public string Path { get; }

    /// <summary>
    /// Listens on <paramref name="path"/>. A socket file left there by a listener that died (even by SIGKILL) is
    /// replaced; a live listener on the path is refused with <see cref="InvalidOperationException"/>, as is a path
    /// that is not a socket or belongs to another uid.
    /// </summary>
    public static DirectLinkListener Listen(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new DirectLinkListener(path, UnixSeqpacketSocket.ListenReplacingStale(path, backlog: 64, "direct-link listener", out _));
    }

    /// <summary>
    /// Accepts the next sender and binds a link carrying <paramref name="label"/> to <paramref name="receiver"/>.
    /// Throws <see cref="TimeoutException"/> when no sender connects within <paramref name="timeout"/>.
    /// </summary>
    public ReceiveLink Accept(L4Thread receiver, ulong label, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        return DirectHandover.Accept(_socket, Path, timeout, (connection, peer) =>
        {
            ReceiveLink link = receiver.CreateLink(label);
            try
            {
                Span<byte> hello = stackalloc byte[HelloSize];
                BinaryPrimitives.WriteUInt32LittleEndian(hello, HelloMagic);
                BinaryPrimitives.WriteInt32LittleEndian(hello[4..], Environment.ProcessId);
                connection.Send(hello, [link.Region.Handle, receiver.Doorbell.Handle]);
                link.WatchSender(peer.Pid);
                return link;
            }
            catch
            {
                link.Dispose();
                throw;
            }
        });
    }

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
            // already gone
        }
    }
}
