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
        private const int AT_EMPTY_PATH = 0x1000;

        /// <summary>File-type bits of a mode (S_IFMT) and the types a received descriptor is told apart by.</summary>
        internal const uint S_IFMT = 0xF000;
        internal const uint S_IFREG = 0x8000;
        internal const uint S_IFDIR = 0x4000;
        internal const uint S_IFIFO = 0x1000;
        internal const uint S_IFSOCK = 0xC000;
        internal const uint S_IFCHR = 0x2000;
        internal const uint S_IFBLK = 0x6000;
        internal const uint S_IFLNK = 0xA000;

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
    

        /// <summary>The mode (type and permission bits) of an open descriptor.</summary>
        internal static uint Mode(SafeHandle fd)
        {
            byte* buffer = stackalloc byte[256];
            bool added = false;
            fd.DangerousAddRef(ref added);
            try
            {
                return StatxNative((int)fd.DangerousGetHandle(), "", AT_EMPTY_PATH, STATX_MODE, buffer) == 0
                    ? *(ushort*)(buffer + 28)
                    : throw LastErrnoException("statx(fd)");
            }
            finally
            {
                if (added)
                {
                    fd.DangerousRelease();
                }
            }
        }

        /// <summary>A file type in words, for refusals ("a pipe", "a directory").</summary>
        internal static string DescribeType(uint mode) => (mode & S_IFMT) switch
        {
            S_IFREG => "a regular file",
            S_IFDIR => "a directory",
            S_IFIFO => "a pipe",
            S_IFSOCK => "a socket",
            S_IFCHR => "a character device",
            S_IFBLK => "a block device",
            S_IFLNK => "a symbolic link",
            _ => "an unknown kind of file",
        };
    }
}
