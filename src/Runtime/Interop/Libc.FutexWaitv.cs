using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>
    /// futex_waitv(2) (Linux 5.16+): one thread sleeps on up to <see cref="MaxWaiters"/> 32-bit futex words at once,
    /// woken by an ordinary FUTEX_WAKE on any of them. Shared (not private) words: they live in memfd regions other
    /// processes wake.
    /// </summary>
    internal static unsafe partial class FutexWaitv
    {
        /// <summary>FUTEX_WAITV_MAX.</summary>
        internal const int MaxWaiters = 128;

        private const uint FUTEX2_SIZE_U32 = 0x02;
        private const int CLOCK_MONOTONIC = 1;

        private static readonly long s_sysFutexWaitv = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 or Architecture.Arm64 => 449,
            _ => throw new PlatformNotSupportedException("L4Rt supports Linux x86_64 and arm64."),
        };

        /// <summary>struct futex_waitv.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Entry
        {
            public ulong Value;
            public ulong Address;
            public uint Flags;
            public uint Reserved;

            internal static Entry For(int* address, int expected) =>
                new() { Value = (uint)expected, Address = (ulong)address, Flags = FUTEX2_SIZE_U32 };
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial long Syscall(long number, Entry* waiters, uint count, uint flags, Timespec* timeout, int clock);

        /// <summary>
        /// Sleeps until one of the words is woken, one no longer holds its value (at entry), or the CLOCK_MONOTONIC time
        /// <paramref name="deadlineNs"/> passes (negative: no limit). Returns the woken entry's index, or -1 (value changed,
        /// timed out, interrupted, a stale entry's memory gone: the caller looks at every live word again). Throws when the kernel lacks the call.
        /// </summary>
        internal static int Wait(Entry* waiters, int count, long deadlineNs)
        {
            Timespec ts = new() { Seconds = deadlineNs / 1_000_000_000, Nanoseconds = deadlineNs % 1_000_000_000 };
            long result = Syscall(s_sysFutexWaitv, waiters, (uint)count, 0, deadlineNs < 0 ? null : &ts, CLOCK_MONOTONIC);
            if (result >= 0)
            {
                return (int)result;
            }

            int errno = Marshal.GetLastPInvokeError();
            // EFAULT: an entry built from a waiter that was cancelled, and its memory unmapped, between the build and the call.
            return errno is Errno.EAGAIN or Errno.ETIMEDOUT or Errno.EINTR or Errno.EFAULT ? -1 : throw ErrnoException("futex_waitv", errno);
        }
    }
}
