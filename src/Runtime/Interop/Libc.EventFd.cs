using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static unsafe partial class Sys
    {
        private const int EFD_CLOEXEC = 0x80000;
        private const int EFD_NONBLOCK = 0x800;

        [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
        private static partial int EventFdNative(uint initial, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "write", SetLastError = true)]
        private static partial nint WriteNative(SafeHandle fd, void* buffer, nuint count);

        [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
        private static partial nint ReadNative(SafeHandle fd, void* buffer, nuint count);

        /// <summary>A non-blocking eventfd used to interrupt a poll loop.</summary>
        internal static SafeFdHandle CreateEventFd()
        {
            int fd = EventFdNative(0, EFD_CLOEXEC | EFD_NONBLOCK);
            return fd < 0 ? throw LastErrnoException("eventfd") : new SafeFdHandle(fd);
        }

        internal static void SignalEventFd(SafeFdHandle fd)
        {
            ulong one = 1;
            _ = WriteNative(fd, &one, sizeof(ulong)); // EAGAIN means the counter is already non-zero: still signalled
        }

        internal static void DrainEventFd(SafeFdHandle fd)
        {
            ulong value;
            _ = ReadNative(fd, &value, sizeof(ulong));
        }
    }
}
