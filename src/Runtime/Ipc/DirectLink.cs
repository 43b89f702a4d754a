using System.Buffers.Binary;
using System.Diagnostics;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Ipc;

/// <summary>The sender side of broker-less link setup; see <see cref="DirectLinkListener"/>.</summary>
public static class DirectLink
{
    /// <summary>
    /// Connects to a <see cref="DirectLinkListener"/> at <paramref name="path"/>, retrying until it appears or
    /// <paramref name="timeout"/> passes, and returns the sending end of a new link.
    /// </summary>
    public static SendLink Connect(string path, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
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
                throw new TimeoutException($"No link listener at {path} within {timeout}.");
            }

            Thread.Sleep(5);
        }

        using (socket)
        {
            int peerPid = socket.PeerCredentials.Pid;
            int timeoutMs = (int)Math.Clamp(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline).TotalMilliseconds, 1, int.MaxValue);
            if (!socket.WaitReadable(timeoutMs))
            {
                throw new TimeoutException($"The link listener at {path} did not answer within {timeout}.");
            }

            List<SafeFdHandle> fds = [];
            Span<byte> hello = stackalloc byte[64];
            int length = socket.Receive(hello, fds);
            try
            {
                if (length != DirectLinkListener.HelloSize || fds.Count != 2
                    || BinaryPrimitives.ReadUInt32LittleEndian(hello) != DirectLinkListener.HelloMagic)
                {
                    throw new L4RtException(L4Status.ProtocolViolation, $"The link listener at {path} sent a malformed hand-over ({length} bytes, {fds.Count} descriptors).");
                }

                SafeFileHandle link = ToFileHandle(fds[0]);
                SafeFileHandle doorbell = ToFileHandle(fds[1]);
                fds.Clear();
                SendLink sendLink = SendLink.Attach(link, doorbell);
                PeerWatch.Instance.Register(peerPid, sendLink.MarkReceiverDead);
                return sendLink;
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

    private static SafeFileHandle ToFileHandle(SafeFdHandle fd)
    {
        int raw = fd.Fd;
        fd.SetHandleAsInvalid(); // ownership moves to the SafeFileHandle
        return new SafeFileHandle(raw, ownsHandle: true);
    }
}
