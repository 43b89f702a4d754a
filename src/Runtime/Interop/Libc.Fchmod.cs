using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Files
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "fchmod", SetLastError = true)]
        private static partial int FchmodNative(SafeHandle fd, int mode);

        internal static void Chmod(SafeHandle fd, int mode)
        {
            if (FchmodNative(fd, mode) != 0)
            {
                throw LastErrnoException("fchmod");
            }
        }
    }
}
