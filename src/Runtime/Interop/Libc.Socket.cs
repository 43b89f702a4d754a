using System.Runtime.InteropServices;
using System.Text;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>AF_UNIX SOCK_SEQPACKET sockets: creation, naming and connection.</summary>
    internal static unsafe partial class Socket
    {
        internal const int AF_UNIX = 1;
        internal const int SOCK_SEQPACKET = 5;
        internal const int SOCK_CLOEXEC = 0x80000;
        internal const int SHUT_RDWR = 2;
        internal const int SunPathLength = 108;

        [StructLayout(LayoutKind.Sequential)]
        internal struct SockaddrUn
        {
            public ushort Family;
            public fixed byte Path[SunPathLength];
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
        private static partial int SocketNative(int domain, int type, int protocol);

        [LibraryImport(Libraries.Libc, EntryPoint = "socketpair", SetLastError = true)]
        private static partial int SocketPairNative(int domain, int type, int protocol, int* sv);

        [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
        private static partial int BindNative(SafeHandle fd, SockaddrUn* addr, int len);

        [LibraryImport(Libraries.Libc, EntryPoint = "listen", SetLastError = true)]
        private static partial int ListenNative(SafeHandle fd, int backlog);

        [LibraryImport(Libraries.Libc, EntryPoint = "accept4", SetLastError = true)]
        private static partial int Accept4Native(SafeHandle fd, nint addr, nint len, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "connect", SetLastError = true)]
        private static partial int ConnectNative(SafeHandle fd, SockaddrUn* addr, int len);

        [LibraryImport(Libraries.Libc, EntryPoint = "shutdown", SetLastError = true)]
        private static partial int ShutdownNative(SafeHandle fd, int how);

        internal static SafeFdHandle CreateSeqpacket()
        {
            int fd = SocketNative(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
            return fd < 0 ? throw LastErrnoException("socket(AF_UNIX, SOCK_SEQPACKET)") : new SafeFdHandle(fd);
        }

        internal static (SafeFdHandle First, SafeFdHandle Second) CreateSeqpacketPair()
        {
            int* sv = stackalloc int[2];
            if (SocketPairNative(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
            {
                throw LastErrnoException("socketpair(AF_UNIX, SOCK_SEQPACKET)");
            }

            return (new SafeFdHandle(sv[0]), new SafeFdHandle(sv[1]));
        }

        internal static void Bind(SafeFdHandle fd, string path)
        {
            SockaddrUn addr = MakeAddress(path);
            if (BindNative(fd, &addr, sizeof(SockaddrUn)) != 0)
            {
                throw LastErrnoException($"bind({path})");
            }
        }

        internal static void Listen(SafeFdHandle fd, int backlog)
        {
            if (ListenNative(fd, backlog) != 0)
            {
                throw LastErrnoException("listen");
            }
        }

        /// <summary>Blocks for the next connection; returns null when the listener was shut down.</summary>
        internal static SafeFdHandle? Accept(SafeFdHandle fd)
        {
            while (true)
            {
                int client = Accept4Native(fd, 0, 0, SOCK_CLOEXEC);
                if (client >= 0)
                {
                    return new SafeFdHandle(client);
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR || errno == Errno.EAGAIN)
                {
                    continue;
                }

                if (errno == Errno.EINVAL || errno == Errno.EBADF)
                {
                    return null; // shut down or closed: the listener is finished
                }

                throw ErrnoException("accept4", errno);
            }
        }

        /// <summary>Connects; returns the errno (0 on success) so callers can tell a stale socket file from a live peer.</summary>
        internal static int Connect(SafeFdHandle fd, string path)
        {
            SockaddrUn addr = MakeAddress(path);
            while (ConnectNative(fd, &addr, sizeof(SockaddrUn)) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    return errno;
                }
            }

            return 0;
        }

        internal static void Shutdown(SafeFdHandle fd) => _ = ShutdownNative(fd, SHUT_RDWR);

        private static SockaddrUn MakeAddress(string path)
        {
            int length = Encoding.UTF8.GetByteCount(path);
            if (length >= SunPathLength)
            {
                throw new ArgumentException($"Unix socket path is {length} bytes; the limit is {SunPathLength - 1}.", nameof(path));
            }

            SockaddrUn addr = default;
            addr.Family = AF_UNIX;
            Encoding.UTF8.GetBytes(path, new Span<byte>(addr.Path, SunPathLength));
            return addr;
        }
    }
}
