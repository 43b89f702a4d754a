using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Socket
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "shutdown", SetLastError = true)]
        private static partial int ShutdownNative(SafeHandle fd, int how);

        internal static void Shutdown(SafeFdHandle fd) => _ = ShutdownNative(fd, SHUT_RDWR);
    }
}
