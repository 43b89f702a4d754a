using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Socket
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "listen", SetLastError = true)]
        private static partial int ListenNative(SafeHandle fd, int backlog);

        internal static void Listen(SafeFdHandle fd, int backlog)
        {
            if (ListenNative(fd, backlog) != 0)
            {
                throw LastErrnoException("listen");
            }
        }
    }
}
