using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static unsafe partial class Sys
    {
        internal const short POLLIN = 0x001;

        [StructLayout(LayoutKind.Sequential)]
        internal struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
        private static partial int PollNative(PollFd* fds, nuint count, int timeoutMs);

        /// <summary>poll(2); EINTR counts as "nothing ready" so callers simply loop.</summary>
        internal static int Poll(Span<PollFd> fds, int timeoutMs)
        {
            fixed (PollFd* p = fds)
            {
                int result = PollNative(p, (nuint)fds.Length, timeoutMs);
                if (result >= 0)
                {
                    return result;
                }

                int errno = Marshal.GetLastPInvokeError();
                return errno == Errno.EINTR ? 0 : throw ErrnoException("poll", errno);
            }
        }
    }
}
