using System.Runtime.InteropServices;
using System.Text;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>AF_UNIX SOCK_SEQPACKET sockets: socket(2) and socketpair(2), and the address type; bind, listen, accept4, connect and shutdown each have their file.</summary>
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

        internal static SockaddrUn MakeAddress(string path)
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
