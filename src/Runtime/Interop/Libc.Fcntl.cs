using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>fcntl(2) for memfd seals: a peer must not be able to shrink a shared region under us (SIGBUS).</summary>
    internal static partial class Fcntl
    {
        private const int F_GETFL = 3;
        private const int F_ADD_SEALS = 1033;
        private const int F_GET_SEALS = 1034;

        internal const int F_SEAL_SEAL = 0x0001;
        internal const int F_SEAL_SHRINK = 0x0002;
        internal const int F_SEAL_GROW = 0x0004;
        internal const int F_SEAL_WRITE = 0x0008;
        internal const int F_SEAL_FUTURE_WRITE = 0x0010;

        internal const int O_ACCMODE = 3;
        internal const int O_RDONLY = 0;
        internal const int O_WRONLY = 1;
        internal const int O_RDWR = 2;

        [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
        private static partial int FcntlInt(SafeHandle fd, int cmd, int arg);

        internal static void AddSeals(SafeHandle fd, int seals)
        {
            if (FcntlInt(fd, F_ADD_SEALS, seals) != 0)
            {
                throw LastErrnoException("fcntl(F_ADD_SEALS)");
            }
        }

        /// <summary>The descriptor's status flags (access mode in <see cref="O_ACCMODE"/>).</summary>
        internal static int GetStatusFlags(SafeHandle fd)
        {
            int flags = FcntlInt(fd, F_GETFL, 0);
            return flags < 0 ? throw LastErrnoException("fcntl(F_GETFL)") : flags;
        }

        internal static int GetSeals(SafeHandle fd)
        {
            int seals = FcntlInt(fd, F_GET_SEALS, 0);
            return seals < 0 ? throw LastErrnoException("fcntl(F_GET_SEALS)") : seals;
        }
    }
}
