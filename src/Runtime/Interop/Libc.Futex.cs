using System.Diagnostics;
using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>
    /// futex(2) on 32-bit words in shared (cross-process) mappings. No libc wrapper exists, so the
    /// raw syscall is used. The operations are the non-<c>_PRIVATE</c> ones because the words live in
    /// memfd regions mapped by several processes.
    /// </summary>
    internal static unsafe partial class Futex
    {
        private const int FUTEX_WAIT = 0;
        private const int FUTEX_WAKE = 1;

        private static readonly long s_sysFutex = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 202,
            Architecture.Arm64 => 98,
            _ => throw new PlatformNotSupportedException("L4Rt supports Linux x86_64 and arm64."),
        };

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        // glibc's syscall() is assembly that ignores the variadic-call register conventions, so a
        // fixed signature is safe on x86_64 and arm64.
        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial long SyscallWait(long number, int* uaddr, int op, int val, Timespec* timeout, nint uaddr2, int val3);

        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        [SuppressGCTransition] // FUTEX_WAKE never blocks; it is on the hot path of every wake-up.
        private static partial long SyscallWake(long number, int* uaddr, int op, int val, nint timeout, nint uaddr2, int val3);

        /// <summary>
        /// Sleeps while <c>*address == expected</c>, at most <paramref name="timeoutNs"/> nanoseconds
        /// (negative: no limit). EINTR is retried with the remaining time.
        /// </summary>
        /// <returns><see cref="FutexWaitResult.Woken"/> after a wake (possibly spurious: callers re-check),
        /// <see cref="FutexWaitResult.ValueChanged"/> when the word no longer held <paramref name="expected"/>,
        /// <see cref="FutexWaitResult.TimedOut"/> when the time ran out.</returns>
        internal static FutexWaitResult Wait(int* address, int expected, long timeoutNs)
        {
            long deadline = timeoutNs < 0 ? long.MaxValue : Stopwatch.GetTimestamp() + NanosToTicks(timeoutNs);
            while (true)
            {
                long result;
                if (timeoutNs < 0)
                {
                    result = SyscallWait(s_sysFutex, address, FUTEX_WAIT, expected, null, 0, 0);
                }
                else
                {
                    long remaining = TicksToNanos(deadline - Stopwatch.GetTimestamp());
                    if (remaining <= 0)
                    {
                        return FutexWaitResult.TimedOut;
                    }

                    Timespec ts = new() { Seconds = remaining / 1_000_000_000, Nanoseconds = remaining % 1_000_000_000 };
                    result = SyscallWait(s_sysFutex, address, FUTEX_WAIT, expected, &ts, 0, 0);
                }

                if (result == 0)
                {
                    return FutexWaitResult.Woken;
                }

                int errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case Errno.EINTR:
                        continue;
                    case Errno.EAGAIN:
                        return FutexWaitResult.ValueChanged;
                    case Errno.ETIMEDOUT:
                        return FutexWaitResult.TimedOut;
                    default:
                        throw ErrnoException("futex(FUTEX_WAIT)", errno);
                }
            }
        }

        /// <summary>Wakes up to <paramref name="count"/> waiters on <paramref name="address"/>; returns how many woke.</summary>
        internal static int Wake(int* address, int count)
        {
            long result = SyscallWake(s_sysFutex, address, FUTEX_WAKE, count, 0, 0, 0);
            return result < 0 ? throw LastErrnoException("futex(FUTEX_WAKE)") : (int)result;
        }

        internal static long NanosToTicks(long nanos) =>
            Stopwatch.Frequency == 1_000_000_000 ? nanos : (long)(nanos * (Stopwatch.Frequency / 1e9));

        internal static long TicksToNanos(long ticks) =>
            Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1e9 / Stopwatch.Frequency));
    }

    internal enum FutexWaitResult
    {
        Woken,
        ValueChanged,
        TimedOut,
    }
}
