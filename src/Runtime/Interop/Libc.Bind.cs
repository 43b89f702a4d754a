using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static unsafe partial class Socket
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
        private static partial int BindNative(SafeHandle fd, SockaddrUn* addr, int len);

        internal static void Bind(SafeFdHandle fd, string path)
        {
            SockaddrUn addr = MakeAddress(path);
            if (BindNative(fd, &addr, sizeof(SockaddrUn)) != 0)
            {
                throw LastErrnoException($"bind({path})");
            }
        }
    }
}
