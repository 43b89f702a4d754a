using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Sys
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "lseek", SetLastError = true)]
        private static partial long LSeek(SafeHandle fd, long offset, int whence);

        private const int SEEK_END = 2;

        /// <summary>The current size of a file descriptor's file (used to check a received memfd before mapping it).</summary>
        internal static long FileSize(SafeHandle fd)
        {
            long size = LSeek(fd, 0, SEEK_END);
            return size < 0 ? throw LastErrnoException("lseek") : size;
        }
    }
}
