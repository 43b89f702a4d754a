using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>statx(2): its struct has one layout on every architecture, unlike stat(2).</summary>
    internal static unsafe partial class Sys
    {
        private const int AT_FDCWD = -100;
        private const int AT_SYMLINK_NOFOLLOW = 0x100;
        private const uint STATX_MODE = 0x2;
        private const uint STATX_UID = 0x8;

        [LibraryImport(Libraries.Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

        /// <summary>Owner uid and mode bits of <paramref name="path"/> (not following a final symlink); null if it does not exist.</summary>
        internal static (uint Uid, uint Mode)? OwnerAndMode(string path)
        {
            byte* buffer = stackalloc byte[256];
            if (StatxNative(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_UID | STATX_MODE, buffer) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return errno == Errno.ENOENT ? null : throw ErrnoException($"statx({path})", errno);
            }

            return (*(uint*)(buffer + 20), *(ushort*)(buffer + 28));
        }
    }
}
