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

    /// <summary>
    /// Listens on <paramref name="path"/>, replacing a stale socket file: one nobody answers on (connect gets
    /// ECONNREFUSED) is what a listener killed with SIGKILL leaves behind, and is deleted first. A live listener
    /// on the path is never displaced: that throws <see cref="InvalidOperationException"/> naming
    /// <paramref name="owner"/> and its pid. A path owned by another uid, or that is no socket, is refused too.
    /// (The liveness probe is a connection the live listener sees; it hangs up at once, before any byte.)
    /// </summary>
    /// <param name="path">The socket path.</param>
    /// <param name="backlog">The listen backlog.</param>
    /// <param name="owner">What listens there, in words, for the refusal ("broker", "direct-link listener").</param>
    /// <param name="replacedStale">True when a stale socket file was deleted (worth a log line).</param>
    internal static UnixSeqpacketSocket ListenReplacingStale(string path, int backlog, string owner, out bool replacedStale)
    {
        replacedStale = false;
        if (Libc.Sys.OwnerAndMode(path) is { } existing)
        {
            uint me = Libc.Process.GetUid();
            if (existing.Uid != me)
            {
                throw new InvalidOperationException($"refusing to replace {path}: it is owned by uid {existing.Uid}, not by uid {me}");
            }

            if ((existing.Mode & Libc.Sys.S_IFMT) != Libc.Sys.S_IFSOCK)
            {
                throw new InvalidOperationException($"refusing to replace {path}: it is {Libc.Sys.DescribeType(existing.Mode)}, not a socket");
            }

            using (UnixSeqpacketSocket? probe = TryConnect(path, out int errno))
            {
                if (probe is not null)
                {
                    throw new InvalidOperationException($"another {owner} is live on {path} (pid {probe.PeerCredentials.Pid}); stop it first or choose another path");
                }

                if (errno != Libc.Errno.ECONNREFUSED && errno != Libc.Errno.ENOENT)
                {
                    throw Libc.ErrnoException($"connect({path})", errno);
                }

                if (errno == Libc.Errno.ECONNREFUSED)
                {
                    File.Delete(path); // nobody listens: the file outlived its process
                    replacedStale = true;
                }
            }
        }

        return Listen(path, backlog);
    }

    /// <summary>True when the peer hung up or sent something already (a probe, or no honest hand-over partner).</summary>
    internal bool IsReadableNow => WaitReadable(0);

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
