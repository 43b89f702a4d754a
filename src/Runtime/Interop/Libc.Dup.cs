using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Sys
    {
        /// <summary>fcntl(F_DUPFD_CLOEXEC): a second descriptor of the same open file, as SCM_RIGHTS gives a receiver.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
        private static partial int FcntlDup(int fd, int command, int lowest);

        private const int F_DUPFD_CLOEXEC = 1030;

        internal static int Duplicate(int fd)
        {
            int copy = FcntlDup(fd, F_DUPFD_CLOEXEC, 0);
            return copy >= 0 ? copy : throw LastErrnoException("fcntl(F_DUPFD_CLOEXEC)");
        }
    }
}
