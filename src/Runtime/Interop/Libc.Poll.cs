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

        /// <summary>
        /// poll(2), restarted after EINTR with what is left of <paramref name="timeoutMs"/> (-1: no limit): 0 means
        /// the time ran out, never "a signal came". poll is not restarted by SA_RESTART, and a stopped and continued
        /// process (SIGSTOP/SIGCONT: Ctrl-Z and fg, a debugger) sees EINTR here because the runtime handles SIGCONT;
        /// a caller that took that 0 for a timeout once let the broker's accept loop end after a SIGCONT.
        /// </summary>
        internal static int Poll(Span<PollFd> fds, int timeoutMs)
        {
            long deadline = timeoutMs > 0 ? Environment.TickCount64 + timeoutMs : 0;
            fixed (PollFd* p = fds)
            {
                while (true)
                {
                    int result = PollNative(p, (nuint)fds.Length, timeoutMs);
                    if (result >= 0)
                    {
                        return result;
                    }

                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != Errno.EINTR)
                    {
                        throw ErrnoException("poll", errno);
                    }

                    if (timeoutMs > 0)
                    {
                        timeoutMs = (int)Math.Max(0, deadline - Environment.TickCount64);
                    }
                }
            }
        }
    }
}
