using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Sys
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "ftruncate", SetLastError = true)]
        private static partial int FTruncateNative(SafeHandle fd, long length);

        internal static void FTruncate(SafeHandle fd, long length)
        {
            while (FTruncateNative(fd, length) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw ErrnoException("ftruncate", errno);
                }
            }
        }
    }
}
