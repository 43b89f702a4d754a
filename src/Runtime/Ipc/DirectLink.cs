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
        List<SafeFdHandle> fds = [];
        Span<byte> hello = stackalloc byte[64];
        try
        {
            (int length, int peerPid) = DirectHandover.Connect(path, timeout, hello, fds, DirectLinkListener.HelloMagic, expectedFds: 2);
            if (length != DirectLinkListener.HelloSize)
            {
                throw new L4RtException(L4Status.ProtocolViolation, $"the link listener at {path} sent a {length}-byte hello");
            }

            SafeFileHandle link = fds[0].ToFileHandle();
            SafeFileHandle doorbell = fds[1].ToFileHandle();
            fds.Clear();
            SendLink sendLink = SendLink.Attach(link, doorbell);
            sendLink.WatchReceiver(peerPid);
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
