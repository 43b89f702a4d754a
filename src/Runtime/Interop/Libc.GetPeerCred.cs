using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static unsafe partial class Socket
    {
        private const int SOL_SOCKET = 1;
        private const int SO_PEERCRED = 17;

        [StructLayout(LayoutKind.Sequential)]
        internal struct UCred
        {
            public int Pid;
            public uint Uid;
            public uint Gid;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
        private static partial int GetSockOptNative(SafeHandle fd, int level, int name, void* value, uint* length);

        /// <summary>The credentials of the process at the other end, as the kernel recorded them at connect time.</summary>
        internal static UCred GetPeerCredentials(SafeFdHandle fd)
        {
            UCred cred;
            uint length = (uint)sizeof(UCred);
            if (GetSockOptNative(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0)
            {
                throw LastErrnoException("getsockopt(SO_PEERCRED)");
            }

            return cred;
        }
    }
}
