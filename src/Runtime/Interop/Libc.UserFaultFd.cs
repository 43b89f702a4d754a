using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>
    /// userfaultfd(2) and its ioctls (see <c>linux/userfaultfd.h</c>): a process registers ranges of its own mappings,
    /// and a fault on a page that is not there yet blocks the faulting thread and is read as a <see cref="Message"/> from
    /// the descriptor, until <see cref="Copy"/> places the page (or <see cref="Wake"/> lets the thread retry). Opened with
    /// <c>UFFD_USER_MODE_ONLY</c>, so no privilege is needed (<c>vm.unprivileged_userfaultfd</c> may stay 0): faults taken
    /// in kernel mode (a system call reading or writing the range) are not handled and fail that call with EFAULT.
    /// </summary>
    internal static unsafe partial class UserFaultFd
    {
        internal const ulong UFFD_API = 0xAA;
        internal const ulong UFFD_FEATURE_MISSING_SHMEM = 1 << 5;
        internal const byte UFFD_EVENT_PAGEFAULT = 0x12;
        internal const ulong UFFD_PAGEFAULT_FLAG_WRITE = 1 << 0;
        private const int UFFD_USER_MODE_ONLY = 1;
        private const int O_CLOEXEC = 0x80000;
        private const int O_NONBLOCK = 0x800;
        private const ulong UFFDIO_REGISTER_MODE_MISSING = 1 << 0;
        private const ulong UFFDIO_COPY_MODE_DONTWAKE = 1 << 0;

        // _IOWR/_IOR(0xAA, nr, struct): the same numbers on x86_64 and arm64 (the generic ioctl encoding).
        private const nuint UFFDIO_API = 0xC018AA3F;
        private const nuint UFFDIO_REGISTER = 0xC020AA00;
        private const nuint UFFDIO_WAKE = 0x8010AA02;
        private const nuint UFFDIO_COPY = 0xC028AA03;

        private static readonly long s_sysUserFaultFd = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 323,
            Architecture.Arm64 => 282,
            _ => throw new PlatformNotSupportedException("L4Rt supports Linux x86_64 and arm64."),
        };

        /// <summary>struct uffd_msg for a page fault (32 bytes; the other events are not enabled).</summary>
        [StructLayout(LayoutKind.Explicit, Size = 32)]
        internal struct Message
        {
            [FieldOffset(0)]
            public byte Event;

            [FieldOffset(8)]
            public ulong Flags;

            [FieldOffset(16)]
            public ulong Address;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct Api
        {
            public ulong ApiVersion;
            public ulong Features;
            public ulong Ioctls;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct Range
        {
            public ulong Start;
            public ulong Length;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct Register
        {
            public Range Range;
            public ulong Mode;
            public ulong Ioctls;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct CopyArgs
        {
            public ulong Destination;
            public ulong Source;
            public ulong Length;
            public ulong Mode;
            public long Copied;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial long SyscallCreate(long number, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        private static partial int Ioctl(SafeHandle fd, nuint request, void* argument);

        [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
        private static partial nint ReadNative(SafeHandle fd, void* buffer, nuint count);

        /// <summary>
        /// A non-blocking userfaultfd with shmem missing-page faults enabled; null with <paramref name="reason"/> where the
        /// kernel refuses it (seccomp, an old kernel, a kernel without shmem support).
        /// </summary>
        internal static SafeFdHandle? TryCreate(out string reason)
        {
            long fd = SyscallCreate(s_sysUserFaultFd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
            if (fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                reason = $"userfaultfd(UFFD_USER_MODE_ONLY) failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}): the kernel (or a seccomp filter) refuses it";
                return null;
            }

            SafeFdHandle handle = new((int)fd);
            Api api = new() { ApiVersion = UFFD_API, Features = UFFD_FEATURE_MISSING_SHMEM };
            if (Ioctl(handle, UFFDIO_API, &api) != 0 || (api.Features & UFFD_FEATURE_MISSING_SHMEM) == 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                handle.Dispose();
                reason = $"UFFDIO_API with UFFD_FEATURE_MISSING_SHMEM failed (errno {errno}): this kernel cannot report faults on shared memory";
                return null;
            }

            reason = "";
            return handle;
        }

        /// <summary>Registers <paramref name="length"/> bytes at <paramref name="address"/> for missing-page faults.</summary>
        internal static void RegisterMissing(SafeHandle uffd, byte* address, long length)
        {
            Register register = new() { Range = new Range { Start = (ulong)address, Length = (ulong)length }, Mode = UFFDIO_REGISTER_MODE_MISSING };
            if (Ioctl(uffd, UFFDIO_REGISTER, &register) != 0)
            {
                throw LastErrnoException("ioctl(UFFDIO_REGISTER)");
            }
        }

        /// <summary>Wakes the threads blocked on faults in a range, to retry their access.</summary>
        internal static void Wake(SafeHandle uffd, byte* address, long length)
        {
            Range range = new() { Start = (ulong)address, Length = (ulong)length };
            _ = Ioctl(uffd, UFFDIO_WAKE, &range); // nothing can go wrong that a caller could act on: the range is checked by us
        }

        /// <summary>
        /// Places <paramref name="length"/> bytes from <paramref name="source"/> at <paramref name="destination"/> (a
        /// registered range) atomically: the page appears whole or not at all. Returns 0, or the errno (EEXIST: the page
        /// is there already). Does not wake: the waiters are in another process or are woken by the caller.
        /// </summary>
        internal static int Copy(SafeHandle uffd, byte* destination, byte* source, long length)
        {
            const int MaxTries = 64; // EAGAIN/EINTR are transient; a bounded number of tries, then the caller hears EAGAIN
            for (int attempt = 1; ; attempt++)
            {
                CopyArgs copy = new() { Destination = (ulong)destination, Source = (ulong)source, Length = (ulong)length, Mode = UFFDIO_COPY_MODE_DONTWAKE };
                if (Ioctl(uffd, UFFDIO_COPY, &copy) == 0)
                {
                    return 0;
                }

                int errno = Marshal.GetLastPInvokeError();
                if ((errno != Errno.EAGAIN && errno != Errno.EINTR) || attempt == MaxTries)
                {
                    return errno;
                }
            }
        }

        /// <summary>Reads the pending fault messages into <paramref name="messages"/>; 0 when none is pending.</summary>
        internal static int Read(SafeHandle uffd, Span<Message> messages)
        {
            fixed (Message* buffer = messages)
            {
                nint read = ReadNative(uffd, buffer, (nuint)(messages.Length * sizeof(Message)));
                if (read >= 0)
                {
                    return (int)(read / sizeof(Message));
                }

                int errno = Marshal.GetLastPInvokeError();
                return errno is Errno.EAGAIN or Errno.EINTR ? 0 : throw ErrnoException("read(userfaultfd)", errno);
            }
        }
    }
}
