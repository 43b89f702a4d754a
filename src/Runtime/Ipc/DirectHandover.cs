using System.Buffers.Binary;
using System.Diagnostics;
using L4Rt.Interop;

namespace L4Rt.Ipc;

/// <summary>
/// The broker-less hand-over shared by direct links and direct channels: accept a same-uid peer on a Unix
/// socket, or connect (retrying until the listener appears) and receive one hello frame with its descriptors.
/// </summary>
internal static class DirectHandover
{
    /// <summary>Accepts the next peer within <paramref name="timeout"/>; refuses any uid but ours.</summary>
    internal static (UnixSeqpacketSocket Connection, Libc.Socket.UCred Peer) Accept(UnixSeqpacketSocket listener, string path, TimeSpan timeout)
    {
        int timeoutMs = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        UnixSeqpacketSocket connection = listener.Accept(timeoutMs) ?? throw new TimeoutException($"nobody connected to {path} within {timeout}");
        Libc.Socket.UCred peer = connection.PeerCredentials;
        if (peer.Uid != Libc.Process.GetUid())
        {
            connection.Dispose();
            throw new L4RtException(L4Status.NoRights, $"a process of uid {peer.Uid} tried to connect; only uid {Libc.Process.GetUid()} may");
        }

        return (connection, peer);
    }

    /// <summary>
    /// Connects to <paramref name="path"/>, retrying while nobody listens, and receives the hello frame: its bytes
    /// into <paramref name="hello"/>, its descriptors into <paramref name="fds"/> (owned by the caller even on failure),
    /// which must number <paramref name="expectedFds"/> and start with <paramref name="magic"/>.
    /// </summary>
    /// <returns>The hello's length and the listener's pid (for the death watch).</returns>
    internal static (int Length, int PeerPid) Connect(string path, TimeSpan timeout, Span<byte> hello, List<SafeFdHandle> fds, uint magic, int expectedFds)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        UnixSeqpacketSocket? socket;
        while ((socket = UnixSeqpacketSocket.TryConnect(path, out int errno)) is null)
        {
            if (errno != Libc.Errno.ENOENT && errno != Libc.Errno.ECONNREFUSED)
            {
                throw Libc.ErrnoException($"connect({path})", errno);
            }

            if (Stopwatch.GetTimestamp() >= deadline)
            {
                throw new TimeoutException($"no listener at {path} within {timeout}");
            }

            Thread.Sleep(5);
        }

        using (socket)
        {
            int peerPid = socket.PeerCredentials.Pid;
            int waitMs = (int)Math.Clamp(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline).TotalMilliseconds, 1, int.MaxValue);
            if (!socket.WaitReadable(waitMs))
            {
                throw new TimeoutException($"the listener at {path} did not answer within {timeout}");
            }

            int length = socket.Receive(hello, fds);
            if (length < 4 || fds.Count != expectedFds || BinaryPrimitives.ReadUInt32LittleEndian(hello) != magic)
            {
                throw new L4RtException(L4Status.ProtocolViolation, $"the listener at {path} sent a malformed hand-over ({length} bytes, {fds.Count} descriptors)");
            }

            return (length, peerPid);
        }
    }
}
