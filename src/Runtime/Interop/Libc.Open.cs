using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>open(2): a read-only descriptor of a memfd (fchmod, which keeps it read-only, is in its own file).</summary>
    internal static partial class Files
    {
        private const int O_CLOEXEC = 0x80000;

        [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int OpenNative(string path, int flags, int mode);

        /// <summary>
        /// A new, read-only open file description of the file behind <paramref name="fd"/> (through /proc/self/fd):
        /// not a dup, so its access mode is its own.
        /// </summary>
        internal static SafeFileHandle ReopenReadOnly(SafeHandle fd)
        {
            while (true)
            {
                int result = OpenNative($"/proc/self/fd/{fd.DangerousGetHandle()}", Fcntl.O_RDONLY | O_CLOEXEC, 0);
                if (result >= 0)
                {
                    return new SafeFileHandle(result, ownsHandle: true);
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw ErrnoException("open(/proc/self/fd, O_RDONLY)", errno);
                }
            }
        }

        /// <summary>Opens <paramref name="path"/> with raw open(2) flags; null with the errno when refused (tests of what a holder cannot do).</summary>
        internal static SafeFileHandle? TryOpen(string path, int flags, out int errno)
        {
            int result = OpenNative(path, flags | O_CLOEXEC, 0);
            errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            return result < 0 ? null : new SafeFileHandle(result, ownsHandle: true);
        }
    }
}
