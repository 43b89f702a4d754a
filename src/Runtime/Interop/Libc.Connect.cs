using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static unsafe partial class Socket
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "connect", SetLastError = true)]
        private static partial int ConnectNative(SafeHandle fd, SockaddrUn* addr, int len);

        /// <summary>Connects; returns the errno (0 on success) so callers can tell a stale socket file from a live peer.</summary>
        internal static int Connect(SafeFdHandle fd, string path)
        {
            SockaddrUn addr = MakeAddress(path);
            while (ConnectNative(fd, &addr, sizeof(SockaddrUn)) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    return errno;
                }
            }

            return 0;
        }
    }
}
