using System.Runtime.InteropServices;

namespace L4Rt.Interop;

/// <summary>
/// An AF_UNIX SOCK_SEQPACKET socket: message boundaries kept, descriptors passed with SCM_RIGHTS, the peer's
/// credentials from SO_PEERCRED. Blocking calls; <see cref="Dispose"/> (or <see cref="Shutdown"/>) unblocks them.
/// </summary>
internal sealed class UnixSeqpacketSocket : IDisposable
{
    private readonly SafeFdHandle _fd;

    private UnixSeqpacketSocket(SafeFdHandle fd) => _fd = fd;

    internal SafeFdHandle Handle => _fd;

    internal static UnixSeqpacketSocket Listen(string path, int backlog = 64)
    {
        SafeFdHandle fd = Libc.Socket.CreateSeqpacket();
        try
        {
            Libc.Socket.Bind(fd, path);
            Libc.Socket.Listen(fd, backlog);
            return new UnixSeqpacketSocket(fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Connects to <paramref name="path"/>; returns null with the errno when nobody listens there.</summary>
    internal static UnixSeqpacketSocket? TryConnect(string path, out int errno)
    {
        SafeFdHandle fd = Libc.Socket.CreateSeqpacket();
        errno = Libc.Socket.Connect(fd, path);
        if (errno == 0)
        {
            return new UnixSeqpacketSocket(fd);
        }

        fd.Dispose();
        return null;
    }

    internal static (UnixSeqpacketSocket First, UnixSeqpacketSocket Second) CreatePair()
    {
        (SafeFdHandle a, SafeFdHandle b) = Libc.Socket.CreateSeqpacketPair();
        return (new UnixSeqpacketSocket(a), new UnixSeqpacketSocket(b));
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> (-1: forever) for a connection; null on timeout or shutdown.</summary>
    internal UnixSeqpacketSocket? Accept(int timeoutMs = -1)
    {
        if (!WaitReadable(timeoutMs))
        {
            return null;
        }

        try
        {
            SafeFdHandle? client = Libc.Socket.Accept(_fd);
            return client is null ? null : new UnixSeqpacketSocket(client);
        }
        catch (ObjectDisposedException)
        {
            return null; // disposed by another thread: the listener is finished
        }
    }

    /// <summary>Waits until a frame (or end of stream) can be read; false on timeout.</summary>
    internal bool WaitReadable(int timeoutMs)
    {
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return true; // disposed: let the caller's next call report the end
        }

        try
        {
            Span<Libc.Sys.PollFd> fds = [new Libc.Sys.PollFd { Fd = _fd.Fd, Events = Libc.Sys.POLLIN }];
            return Libc.Sys.Poll(fds, timeoutMs) > 0;
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    internal void Send(ReadOnlySpan<byte> frame, ReadOnlySpan<SafeHandle> fds = default) => Libc.Msg.Send(_fd, frame, fds);

    /// <summary>Sends without blocking; false when the peer's queue is full or the peer is gone.</summary>
    internal bool TrySend(ReadOnlySpan<byte> frame, ReadOnlySpan<SafeHandle> fds = default) => Libc.Msg.Send(_fd, frame, fds, nonBlocking: true);

    /// <summary>
    /// Receives one frame with at most <paramref name="maxFds"/> descriptors (the kernel closes any beyond them
    /// and marks the frame truncated); 0 at end of stream, -1 when truncated (descriptors received are still
    /// owned by <paramref name="fds"/>).
    /// </summary>
    internal int Receive(Span<byte> buffer, List<SafeFdHandle> fds, int maxFds = Libc.Msg.MaxFds)
    {
        try
        {
            return Libc.Msg.Receive(_fd, buffer, fds, maxFds);
        }
        catch (ObjectDisposedException)
        {
            return 0; // disposed by another thread: end of stream for this reader
        }
    }

    internal Libc.Socket.UCred PeerCredentials => Libc.Socket.GetPeerCredentials(_fd);

    internal void Shutdown() => Libc.Socket.Shutdown(_fd);

    public void Dispose()
    {
        if (!_fd.IsClosed)
        {
            Libc.Socket.Shutdown(_fd);
        }

        _fd.Dispose();
    }
}
