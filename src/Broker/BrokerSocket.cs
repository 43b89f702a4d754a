using L4Rt.Interop;
using Microsoft.Extensions.Logging;

namespace L4Rt.Broker;

/// <summary>
/// Binds the control socket safely: its directory is ours and mode 0700 (created so if missing); a path
/// owned by another uid is refused; a socket file nobody answers on is stale and replaced; a live broker
/// on the same path is an error, never silently displaced.
/// </summary>
internal static class BrokerSocket
{
    internal static UnixSeqpacketSocket Bind(string path, ILogger log)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        uint me = Libc.Process.GetUid();
        if (Libc.Sys.OwnerAndMode(directory) is not { } dir)
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            dir = Libc.Sys.OwnerAndMode(directory) ?? throw new IOException($"could not create {directory}");
        }

        if (dir.Uid != me)
        {
            throw new InvalidOperationException($"refusing to use {directory}: it is owned by uid {dir.Uid}, not by this broker's uid {me}");
        }

        if ((dir.Mode & 0x3F) != 0) // any group/other bit
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (Libc.Sys.OwnerAndMode(path) is { } existing)
        {
            if (existing.Uid != me)
            {
                throw new InvalidOperationException($"refusing to replace {path}: it is owned by uid {existing.Uid}");
            }

            using UnixSeqpacketSocket? probe = UnixSeqpacketSocket.TryConnect(path, out int errno);
            if (probe is not null)
            {
                throw new InvalidOperationException($"another broker is live on {path}; stop it first or choose another --SocketPath");
            }

            if (errno != Libc.Errno.ECONNREFUSED && errno != Libc.Errno.ENOENT)
            {
                throw Libc.ErrnoException($"connect({path})", errno);
            }

            File.Delete(path);
            BrokerLog.StaleSocket(log, path);
        }

        return UnixSeqpacketSocket.Listen(path, backlog: 128);
    }
}
