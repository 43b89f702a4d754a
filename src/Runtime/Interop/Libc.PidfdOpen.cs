using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Process
    {
        // pidfd_open has the same number on every architecture (new syscalls are unified).
        private const long SYS_pidfd_open = 434;

        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial long PidfdOpenNative(long number, int pid, uint flags);

        /// <summary>A descriptor that becomes readable when process <paramref name="pid"/> exits; null if it is already gone.</summary>
        internal static SafeFdHandle? PidfdOpen(int pid)
        {
            long fd = PidfdOpenNative(SYS_pidfd_open, pid, 0);
            if (fd >= 0)
            {
                return new SafeFdHandle((int)fd);
            }

            int errno = Marshal.GetLastPInvokeError();
            return errno == Errno.ESRCH ? null : throw ErrnoException("pidfd_open", errno);
        }
    }
}
