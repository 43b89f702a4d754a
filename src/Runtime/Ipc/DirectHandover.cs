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
    /// <summary>
    /// Accepts the next peer within <paramref name="timeout"/> (refusing any uid but ours) and runs
    /// <paramref name="handOver"/> on the connection, which is closed afterwards. A peer that hung up before its
    /// hello — the liveness probe of <see cref="UnixSeqpacketSocket.ListenReplacingStale"/>, or a partner that died
    /// while queued — is skipped, as is one that dies during the hand-over; the next one is accepted instead.
    /// <paramref name="handOver"/> must release what it created when it throws.
    /// </summary>
    internal static T Accept<T>(UnixSeqpacketSocket listener, string path, TimeSpan timeout, Func<UnixSeqpacketSocket, Libc.Socket.UCred, T> handOver)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(Math.Max(0, timeout.TotalSeconds) * Stopwatch.Frequency);
        while (true)
        {
            int timeoutMs = deadline == long.MaxValue ? -1 : (int)Math.Clamp(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline).TotalMilliseconds, 0, int.MaxValue);
            using UnixSeqpacketSocket connection = listener.Accept(timeoutMs) ?? throw new TimeoutException($"nobody connected to {path} within {timeout}");
            Libc.Socket.UCred peer = connection.PeerCredentials;
            if (peer.Uid != Libc.Process.GetUid())
            {
                throw new L4RtException(L4Status.NoRights, $"a process of uid {peer.Uid} tried to connect; only uid {Libc.Process.GetUid()} may");
            }

            if (connection.IsReadableNow)
            {
                continue; // an honest partner sends nothing before our hello: this one is gone (or a probe)
            }

            try
            {
                return handOver(connection, peer);
            }
            catch (IOException e) when (e.HResult is Libc.Errno.EPIPE or Libc.Errno.ECONNRESET)
            {
                // the partner died between accept and hello: wait for the next one
            }
        }
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
