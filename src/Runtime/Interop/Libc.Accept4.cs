using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Socket
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "accept4", SetLastError = true)]
        private static partial int Accept4Native(SafeHandle fd, nint addr, nint len, int flags);

        /// <summary>Blocks for the next connection; returns null when the listener was shut down.</summary>
        internal static SafeFdHandle? Accept(SafeFdHandle fd)
        {
            while (true)
            {
                int client = Accept4Native(fd, 0, 0, SOCK_CLOEXEC);
                if (client >= 0)
                {
                    return new SafeFdHandle(client);
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR || errno == Errno.EAGAIN)
                {
                    continue;
                }

                if (errno == Errno.EINVAL || errno == Errno.EBADF)
                {
                    return null; // shut down or closed: the listener is finished
                }

                throw ErrnoException("accept4", errno);
            }
        }
    }
}
